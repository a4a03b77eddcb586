// A real Chromium, driven by Playwright, on a page of another origin than the API.
// tests/clients/test_browser.py runs it; each phase prints one JSON line. After the beacons
// phase it waits for a line on stdin (the test has seen them arrive) before closing the browser.
import { createInterface } from "node:readline";
import { chromium } from "playwright-core";

const input = JSON.parse(process.env.SOLO_BROWSER_INPUT);
const stdin = createInterface({ input: process.stdin });
const report = (phase, data) => console.log(JSON.stringify({ phase, ...data }));

// fetch from the page: read the ETag, diff with If-Match, then the same stale tag again.
async function diffWithIfMatch({ apiUrl, token, sessionId }) {
  const auth = { Authorization: `Bearer ${token}` };
  const url = `${apiUrl}/sessions/${sessionId}/`;
  const answer = async (response) => ({
    status: response.status,
    etag: response.headers.get("ETag"),
    requestId: response.headers.get("X-Request-ID"),
    body: await response.json(),
  });
  const read = await answer(await fetch(url, { headers: auth }));
  const diff = (etag) =>
    fetch(`${url}diff/`, {
      method: "PATCH",
      headers: { ...auth, "Content-Type": "application/json", "If-Match": etag },
      body: JSON.stringify({ ops: [{ op: "add", path: "/з-браузера", value: "так" }] }),
    });
  const written = await answer(await diff(read.etag));
  const stale = await answer(await diff(read.etag));
  return { read, written, stale };
}

// A Web Worker gzips the whole state with CompressionStream and posts it to save-stream.
async function saveFromWorker({ apiUrl, token, sessionId, etag, state }) {
  const source = `onmessage = async ({ data }) => {
    const json = new Blob([JSON.stringify(data.state)]).stream();
    const gzipped = await new Response(json.pipeThrough(new CompressionStream("gzip"))).arrayBuffer();
    const response = await fetch(data.url, {
      method: "POST",
      headers: {
        Authorization: "Bearer " + data.token,
        "Content-Type": "application/json",
        "Content-Encoding": "gzip",
        "If-Match": data.etag,
      },
      body: gzipped,
    });
    postMessage({
      status: response.status,
      etag: response.headers.get("ETag"),
      body: await response.json(),
      gzippedBytes: gzipped.byteLength,
    });
  };`;
  const worker = new Worker(URL.createObjectURL(new Blob([source], { type: "text/javascript" })));
  try {
    return await new Promise((resolve, reject) => {
      worker.onmessage = (event) => resolve(event.data);
      worker.onerror = (event) => reject(new Error(event.message));
      worker.postMessage({ url: `${apiUrl}/sessions/${sessionId}/save-stream/`, token, etag, state });
    });
  } finally {
    worker.terminate();
  }
}

// A snapshot, then its URL downloaded as it is (no token).
async function snapshotAndDownload({ apiUrl, token, sessionId }) {
  const response = await fetch(`${apiUrl}/sessions/${sessionId}/snapshot/`, {
    method: "POST",
    headers: { Authorization: `Bearer ${token}` },
  });
  const link = await response.json();
  const download = await fetch(link.url);
  return { status: response.status, link, downloadStatus: download.status, document: await download.json() };
}

// The second tab: reads the session, follows its events_url with EventSource, and when a
// new revision is announced asks the change feed for what it missed and applies it (add,
// replace and remove on members, which is what the first tab sends), instead of refetching.
async function followInSecondTab({ apiUrl, token, sessionId }) {
  const auth = { Authorization: `Bearer ${token}` };
  const requested = [];
  const get = async (url) => {
    requested.push(new URL(url).pathname);
    return (await fetch(url, { headers: auth })).json();
  };
  const session = await get(`${apiUrl}/sessions/${sessionId}/`);
  let state = session.state;
  let rev = session.rev;
  const apply = (ops) => {
    for (const { op, path, value } of ops) {
      const key = decodeURIComponent(path.slice(1)).replaceAll("~1", "/").replaceAll("~0", "~");
      if (op === "remove") delete state[key];
      else state = path === "" ? value : { ...state, [key]: value };
    }
  };
  const events = [];
  window.soloSecondTab = new Promise((resolve, reject) => {
    const source = new EventSource(session.events_url);
    source.addEventListener("rev", async (event) => {
      const announced = JSON.parse(event.data);
      events.push({ id: event.lastEventId, ...announced });
      if (announced.rev > rev) {
        const feed = await get(`${apiUrl}/sessions/${sessionId}/changes/?since=${rev}`);
        for (const change of feed.changes) apply(change.ops);
        rev = feed.rev;
        source.close();
        resolve({ events, rev, state, requested });
      }
    });
    source.onerror = () => reject(new Error("EventSource failed"));
  });
  return new Promise((resolve) => setTimeout(() => resolve(events.length), 500));
}

// The first tab writes once the second one listens.
async function diffInFirstTab({ apiUrl, token, sessionId }) {
  const response = await fetch(`${apiUrl}/sessions/${sessionId}/diff/`, {
    method: "PATCH",
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json", "If-Match": "*" },
    body: JSON.stringify({ ops: [{ op: "add", path: "/з-першої-вкладки", value: "привіт" }] }),
  });
  return { status: response.status, body: await response.json() };
}

// sendBeacon on pagehide, to beacon_url as the API returned it: a string and a JSON Blob.
function armBeacons({ beaconUrl, text, blob }) {
  addEventListener("pagehide", () => {
    navigator.sendBeacon(beaconUrl, text);
    navigator.sendBeacon(beaconUrl, new Blob([blob], { type: "application/json" }));
  });
}

const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});
try {
  const page = await browser.newPage();
  const pageErrors = [];
  page.on("pageerror", (error) => pageErrors.push(String(error)));
  await page.goto(input.pageUrl);
  const fetched = await page.evaluate(diffWithIfMatch, input);
  report("fetch", fetched);
  report("worker", await page.evaluate(saveFromWorker, { ...input, etag: fetched.written.etag }));
  report("snapshot", await page.evaluate(snapshotAndDownload, input));
  const tabs = await browser.newContext();
  const [firstTab, secondTab] = [await tabs.newPage(), await tabs.newPage()];
  await firstTab.goto(input.pageUrl);
  await secondTab.goto(input.pageUrl);
  const listening = await secondTab.evaluate(followInSecondTab, input);
  const written = await firstTab.evaluate(diffInFirstTab, input);
  const followed = await secondTab.evaluate(() => window.soloSecondTab);
  report("twoTabs", { listening, written, followed });
  await tabs.close();
  await page.evaluate(armBeacons, { ...input, beaconUrl: fetched.read.body.beacon_url });
  await page.goto("about:blank");
  report("beacons", { pageErrors });
  await new Promise((resolve) => stdin.once("line", resolve));
} finally {
  stdin.close();
  await browser.close();
}
