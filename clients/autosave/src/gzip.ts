/**
 * gzip for large bodies, off the main thread where the page allows: one Worker made from a
 * Blob URL (no file to host, any origin) runs CompressionStream. A page whose CSP refuses
 * blob: workers compresses on the main thread instead, where CompressionStream still works
 * chunk by chunk; without CompressionStream at all the body goes uncompressed (null).
 */

const WORKER_SOURCE = `onmessage = async ({ data }) => {
  const stream = new Blob([data.text]).stream().pipeThrough(new CompressionStream("gzip"));
  const bytes = new Uint8Array(await new Response(stream).arrayBuffer());
  postMessage({ id: data.id, bytes }, [bytes.buffer]);
};`;

export interface Gzip {
  compress(text: string): Promise<Uint8Array | null>;
  close(): void;
}

export function gzipper(): Gzip {
  let worker: Worker | null | undefined;
  let next = 0;
  const waiting = new Map<number, { text: string; resolve: (bytes: Uint8Array) => void }>();
  const start = (): Worker | null => {
    if (worker !== undefined) return worker;
    try {
      const url = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: "text/javascript" }));
      worker = new Worker(url);
      URL.revokeObjectURL(url);
      worker.onmessage = ({ data }: MessageEvent<{ id: number; bytes: Uint8Array }>) => {
        waiting.get(data.id)?.resolve(data.bytes);
        waiting.delete(data.id);
      };
      worker.onerror = () => {
        worker?.terminate();
        worker = null;
        for (const { text, resolve } of waiting.values()) void compressHere(text).then(resolve);
        waiting.clear();
      };
    } catch {
      worker = null;
    }
    return worker;
  };
  return {
    async compress(text) {
      if (typeof CompressionStream === "undefined") return null;
      const running = typeof Worker === "undefined" ? null : start();
      if (running === null) return compressHere(text);
      const id = next++;
      return new Promise((resolve) => {
        waiting.set(id, { text, resolve });
        running.postMessage({ id, text });
      });
    },
    close() {
      worker?.terminate();
      worker = null;
    },
  };
}

async function compressHere(text: string): Promise<Uint8Array> {
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}
