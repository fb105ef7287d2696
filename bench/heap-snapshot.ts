/**
 * What holds a process's memory: a heap snapshot of it (written by the process on SIGUSR2, which it
 * accepts when started with --heapsnapshot-signal=SIGUSR2 and --diagnostic-dir) summarized by kind of
 * object, and its strings by shape (digits and UUIDs folded), so "10,000 condition messages" shows as one
 * line. Measures only.
 */
import { closeSync, openSync, readdirSync, readFileSync, readSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";

/** The Node options that let `takeHeapSnapshot` ask a process for a snapshot written into `dir`. */
export function heapSnapshotOptions(dir: string): string {
  return `--heapsnapshot-signal=SIGUSR2 --diagnostic-dir=${dir}`;
}

/** Signals the process and waits for its snapshot in `dir`; returns the file. */
export async function takeHeapSnapshot(pid: number, dir: string, timeoutMs = 300_000): Promise<string> {
  const before = new Set(readdirSync(dir));
  process.kill(pid, "SIGUSR2");
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await new Promise((r) => setTimeout(r, 2000));
    const file = readdirSync(dir).find((f) => f.endsWith(".heapsnapshot") && !before.has(f));
    // Large, and written with pauses: done when the JSON object is closed.
    if (file && endsWith(join(dir, file), "]}")) return join(dir, file);
    if (Date.now() > deadline) throw new Error(`no heap snapshot from process ${pid} in ${dir}`);
  }
}

function endsWith(file: string, text: string): boolean {
  const size = statSync(file).size;
  if (size < text.length) return false;
  const tail = Buffer.alloc(text.length);
  const fd = openSync(file, "r");
  try {
    readSync(fd, tail, 0, text.length, size - text.length);
  } finally {
    closeSync(fd);
  }
  return tail.toString() === text;
}

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
  nodes: number[];
  strings: string[];
}

const MiB = 1024 * 1024;
const STRING_TYPES = new Set(["string", "concatenated string", "sliced string"]);

function top(sizes: Map<string, { bytes: number; count: number }>, n: number): string[] {
  return [...sizes]
    .sort((a, b) => b[1].bytes - a[1].bytes)
    .slice(0, n)
    .map(([k, v]) => `${(v.bytes / MiB).toFixed(1).padStart(6)} MiB ${String(v.count).padStart(8)}  ${k}`);
}

/** The summary of a snapshot file: total live size, the largest kinds of object and shapes of string. */
export function summarizeHeapSnapshot(file: string, lines = 15): { liveMiB: number; summary: string[] } {
  const snap = JSON.parse(readFileSync(file, "utf8")) as Snapshot;
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const [typeAt, nameAt, sizeAt] = ["type", "name", "self_size"].map((f) => fields.indexOf(f));
  const byKind = new Map<string, { bytes: number; count: number }>();
  const byString = new Map<string, { bytes: number; count: number }>();
  const add = (map: typeof byKind, key: string, bytes: number) => {
    const entry = map.get(key) ?? { bytes: 0, count: 0 };
    entry.bytes += bytes;
    entry.count++;
    map.set(key, entry);
  };
  let total = 0;
  for (let i = 0; i < snap.nodes.length; i += fields.length) {
    const type = types[snap.nodes[i + (typeAt ?? 0)] ?? 0] ?? "";
    const name = snap.strings[snap.nodes[i + (nameAt ?? 0)] ?? 0] ?? "";
    const bytes = snap.nodes[i + (sizeAt ?? 0)] ?? 0;
    total += bytes;
    if (STRING_TYPES.has(type)) {
      add(byKind, `${type}s`, bytes);
      const shape =
        name.length > 500
          ? `(module source or other text over 500 characters)`
          : JSON.stringify(
              name
                .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, "<uuid>")
                .replace(/\d+/g, "9")
                .slice(0, 70),
            );
      add(byString, shape, bytes);
    } else add(byKind, type === "code" ? "compiled code" : `${type} ${name.slice(0, 50)}`, bytes);
  }
  rmSync(file);
  return {
    liveMiB: total / MiB,
    summary: [
      `live heap ${(total / MiB).toFixed(1)} MiB; largest kinds of object (self size, count):`,
      ...top(byKind, lines),
      "largest shapes of string (digits shown as 9):",
      ...top(byString, lines),
    ],
  };
}
