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
  snapshot: {
    meta: { node_fields: string[]; node_types: [string[]]; edge_fields: string[]; edge_types: [string[]] };
  };
  nodes: number[];
  edges: number[];
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

/**
 * The summary of a snapshot file: total live size, the largest kinds of object, plain objects by their
 * property names (what they are), and strings by shape and by the property that holds them.
 */
export function summarizeHeapSnapshot(file: string, lines = 15): { liveMiB: number; summary: string[] } {
  const snap = JSON.parse(readFileSync(file, "utf8")) as Snapshot;
  const { meta } = snap.snapshot;
  const fields = meta.node_fields;
  const types = meta.node_types[0];
  const [typeAt, nameAt, sizeAt, edgeCountAt] = ["type", "name", "self_size", "edge_count"].map((f) =>
    fields.indexOf(f),
  ) as [number, number, number, number];
  const edgeFields = meta.edge_fields;
  const edgeTypes = meta.edge_types[0];
  const [edgeTypeAt, edgeNameAt, edgeToAt] = ["type", "name_or_index", "to_node"].map((f) =>
    edgeFields.indexOf(f),
  ) as [number, number, number];
  const typeOf = (node: number) => types[snap.nodes[node + typeAt] ?? 0] ?? "";
  const byKind = new Map<string, { bytes: number; count: number }>();
  const byString = new Map<string, { bytes: number; count: number }>();
  const byProperties = new Map<string, { bytes: number; count: number }>();
  const stringsHeldAs = new Map<string, { bytes: number; count: number }>();
  const add = (map: typeof byKind, key: string, bytes: number) => {
    const entry = map.get(key) ?? { bytes: 0, count: 0 };
    entry.bytes += bytes;
    entry.count++;
    map.set(key, entry);
  };
  let total = 0;
  let edge = 0;
  for (let i = 0; i < snap.nodes.length; i += fields.length) {
    const type = typeOf(i);
    const name = snap.strings[snap.nodes[i + nameAt] ?? 0] ?? "";
    const bytes = snap.nodes[i + sizeAt] ?? 0;
    const edges = snap.nodes[i + edgeCountAt] ?? 0;
    const properties: string[] = [];
    for (let e = edge; e < edge + edges * edgeFields.length; e += edgeFields.length) {
      if (edgeTypes[snap.edges[e + edgeTypeAt] ?? 0] !== "property") continue;
      const property = snap.strings[snap.edges[e + edgeNameAt] ?? 0] ?? "";
      properties.push(property);
      const to = snap.edges[e + edgeToAt] ?? 0;
      if (STRING_TYPES.has(typeOf(to))) add(stringsHeldAs, `.${property}`, snap.nodes[to + sizeAt] ?? 0);
    }
    edge += edges * edgeFields.length;
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
    } else {
      add(byKind, type === "code" ? "compiled code" : `${type} ${name.slice(0, 50)}`, bytes);
      if (type === "object" && name === "Object")
        add(
          byProperties,
          `{${properties.slice(0, 8).join(", ")}${properties.length > 8 ? ", …" : ""}}`,
          bytes,
        );
    }
  }
  rmSync(file);
  return {
    liveMiB: total / MiB,
    summary: [
      `live heap ${(total / MiB).toFixed(1)} MiB; largest kinds of object (self size, count):`,
      ...top(byKind, lines),
      "largest plain objects by their properties (self size without out-of-object stores):",
      ...top(byProperties, lines),
      "largest shapes of string (digits shown as 9):",
      ...top(byString, lines),
      "strings by the property holding them (a string held twice counts twice):",
      ...top(stringsHeldAs, lines),
    ],
  };
}
