/**
 * CSV export (RFC 4180) for the audit log: quoted fields, CRLF line ends, and cells that a spreadsheet would
 * run as a formula (starting with =, +, -, @, tab or CR) prefixed with a quote, so an attacker-chosen display
 * name cannot execute in an admin's spreadsheet.
 */

/** One CSV cell from a value: null and undefined are empty, objects are JSON. */
export function csvCell(value: unknown): string {
  let text: string;
  if (value === null || value === undefined) text = "";
  else if (value instanceof Date) text = value.toISOString();
  else if (typeof value === "object") text = JSON.stringify(value);
  else text = String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) || text !== text.trim() ? `"${text.replace(/"/g, '""')}"` : text;
}

/** A CSV document with a header row. */
export function toCsv<K extends string>(
  columns: readonly K[],
  rows: ReadonlyArray<Record<K, unknown>>,
): string {
  const lines = [columns.map(csvCell).join(",")];
  for (const row of rows) lines.push(columns.map((c) => csvCell(row[c])).join(","));
  return `${lines.join("\r\n")}\r\n`;
}
