// Debian's Chromium, driven by Playwright on commands from tests/clients/test_autosave_browser.py:
// one JSON command a line on stdin, one JSON answer a line on stdout ({"id", "ok": value} or
// {"id", "error": message}). The test keeps the server, the fault proxy and the assertions; this
// script only opens contexts and tabs, types, evaluates, waits, goes offline and closes.
import { createInterface } from "node:readline";
import { chromium } from "playwright-core";

const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-background-timer-throttling",
    "--disable-renderer-backgrounding", "--disable-backgrounding-occluded-windows"],
});
const contexts = new Map();
const tabs = new Map();
const errors = [];
const dialogs = new Map();
let next = 0;

const commands = {
  async context() {
    const id = `c${next++}`;
    contexts.set(id, await browser.newContext());
    return id;
  },
  async open({ context, url }) {
    const page = await contexts.get(context).newPage();
    page.on("pageerror", (error) => errors.push(String(error)));
    const shown = [];
    // Accepted, as a user who leaves anyway would (unhandled, Playwright would stay on the page).
    page.on("dialog", (dialog) => void dialog.accept().then(() => shown.push(dialog.type())));
    await page.goto(url);
    await page.evaluate(() => window.soloReady);
    const id = `t${next++}`;
    tabs.set(id, page);
    dialogs.set(id, shown);
    return id;
  },
  async type({ tab, selector, text, delay, at }) {
    const field = tabs.get(tab).locator(selector);
    await field.focus();
    await field.evaluate((element, position) => {
      const caret = position === "start" ? 0 : element.value.length;
      element.setSelectionRange(caret, caret);
    }, at ?? "end");
    const timeout = 30_000 + text.length * ((delay ?? 0) + 50);
    await field.pressSequentially(text, { delay: delay ?? 0, timeout });
    return null;
  },
  // `js` is a function's source, called in the page with `arg`.
  async eval({ tab, js, arg }) {
    return tabs.get(tab).evaluate(([source, value]) => (0, eval)(`(${source})`)(value), [js, arg ?? null]);
  },
  async waitFor({ tab, js, arg, timeout }) {
    const check = ([source, value]) => (0, eval)(`(${source})`)(value);
    await tabs.get(tab).waitForFunction(check, [js, arg ?? null], { timeout: timeout ?? 30_000, polling: 50 });
    return null;
  },
  async offline({ context, value }) {
    await contexts.get(context).setOffline(value);
    return null;
  },
  async close({ tab }) {
    const page = tabs.get(tab);
    const closed = page.waitForEvent("close");
    await page.close({ runBeforeUnload: true }); // returns before beforeunload is answered
    await closed;
    tabs.delete(tab);
    return null;
  },
  async dialogs({ tab }) {
    return dialogs.get(tab);
  },
  async errors() {
    return errors;
  },
  // Between tests (one browser serves a whole module): every context goes, with its tabs,
  // and the page errors seen since the last reset are answered and forgotten.
  async reset() {
    await Promise.all([...contexts.values()].map((context) => context.close()));
    contexts.clear();
    tabs.clear();
    dialogs.clear();
    return errors.splice(0);
  },
};

// Commands run concurrently (two tabs type at once); each answer carries its command's id.
const run = async (command) => {
  try {
    const ok = (await commands[command.op](command)) ?? null;
    console.log(JSON.stringify({ id: command.id, ok }));
  } catch (error) {
    console.log(JSON.stringify({ id: command.id, error: String(error?.stack ?? error) }));
  }
};
const lines = createInterface({ input: process.stdin });
const running = new Set();
try {
  for await (const line of lines) {
    const command = JSON.parse(line);
    if (command.op === "quit") break;
    const done = run(command).finally(() => running.delete(done));
    running.add(done);
  }
  await Promise.all(running);
} finally {
  lines.close();
  process.stdin.destroy();
  await browser.close();
}
