// The example editor: a title and blocks of text, saved by solo-autosave. Give it the API
// and a token in the URL fragment: #api=https://solo.example/api/v1/solo&token=JWT
// (and &session=ID to open one; without it the page creates a session and adds its id).
// Optional: &rebase=client (no server rebase), &warnOnClose=1, &debounce= &maxWait= &minInterval= (ms).
import { openAutosave } from "../dist/solo-autosave.bundle.js";

const params = new URLSearchParams(location.hash.slice(1));
const $ = (id) => document.getElementById(id);
const number = (name) => (params.has(name) ? { [name + "Ms"]: Number(params.get(name)) } : {});

window.soloEvents = { conflicts: [], remote: 0, statuses: [] };
window.soloRender = (state) => render(state);
window.soloReady = start();

async function start() {
  if (!params.get("api") || !params.get("token")) {
    $("status").textContent = "add #api=…&token=… to the URL";
    return null;
  }
  const autosave = await openAutosave({
    apiUrl: params.get("api"),
    getToken: () => params.get("token"),
    ...(params.get("session") ? { sessionId: params.get("session") } : { initialState: { назва: "", блоки: [""] } }),
    serverRebase: params.get("rebase") !== "client",
    warnOnClose: params.get("warnOnClose") === "1",
    timing: { ...number("debounce"), ...number("maxWait"), ...number("minInterval") },
  });
  if (!params.get("session")) {
    params.set("session", autosave.sessionId);
    history.replaceState(null, "", "#" + params.toString());
  }
  window.soloAutosave = autosave;
  autosave.on("status", showStatus);
  autosave.on("saved", ({ rev }) => ($("rev").textContent = rev));
  autosave.on("remote", ({ rev, state }) => {
    window.soloEvents.remote += 1;
    $("rev").textContent = rev;
    render(state);
  });
  autosave.on("conflict", ({ conflicts, state }) => {
    window.soloEvents.conflicts.push(...conflicts);
    render(state);
    showConflicts(autosave);
  });
  $("title").addEventListener("input", (event) => autosave.update((state) => ({ ...state, назва: event.target.value })));
  $("add").addEventListener("click", () => {
    autosave.update((state) => ({ ...state, блоки: [...blocksOf(state), ""] }));
    render(autosave.state);
  });
  $("resolve").addEventListener("click", () => {
    autosave.resolveConflicts();
    showConflicts(autosave);
  });
  $("rev").textContent = autosave.rev;
  render(autosave.state);
  showStatus(autosave.status);
  return autosave;
}

function blocksOf(state) {
  return Array.isArray(state.блоки) ? state.блоки : [];
}

/** Draw the state; a focused field keeps its caret where the text before it is unchanged. */
function render(state) {
  setValue($("title"), typeof state.назва === "string" ? state.назва : "");
  const blocks = blocksOf(state);
  const container = $("blocks");
  while (container.children.length > blocks.length) container.lastElementChild.remove();
  blocks.forEach((text, index) => {
    let area = container.children[index];
    if (!area) {
      area = document.createElement("textarea");
      area.dataset.index = String(index);
      area.setAttribute("aria-label", `block ${index}`);
      area.addEventListener("input", () => {
        const at = Number(area.dataset.index);
        window.soloAutosave.update((current) => ({ ...current, блоки: blocksOf(current).with(at, area.value) }));
      });
      container.append(area);
    }
    setValue(area, String(text));
  });
}

function setValue(field, text) {
  if (field.value === text) return;
  if (document.activeElement !== field) {
    field.value = text;
    return;
  }
  const { selectionStart, value } = field;
  let prefix = 0;
  while (prefix < selectionStart && value[prefix] === text[prefix]) prefix++;
  const caret = prefix === selectionStart ? selectionStart : selectionStart + (text.length - value.length);
  field.value = text;
  field.setSelectionRange(caret, caret);
}

function showStatus(status) {
  window.soloEvents.statuses.push(status.kind);
  const label = status.kind === "pending" ? `pending ${status.pending}` : status.kind;
  $("status").textContent = status.error ? `${label}: ${status.error}` : label;
  $("status").dataset.kind = status.kind;
}

function showConflicts(autosave) {
  const list = $("conflicts");
  list.replaceChildren(
    ...autosave.conflicts.map((conflict) => {
      const item = document.createElement("li");
      item.textContent = `Conflict at ${conflict.path}: kept yours; theirs was ${JSON.stringify(conflict.remote)}`;
      return item;
    }),
  );
  $("resolve").hidden = autosave.conflicts.length === 0;
}
