import { describe, expect, it } from "vitest";
import { csvCell, toCsv } from "./csv.ts";

describe("CSV export", () => {
  it("quotes fields with commas, quotes and line breaks, and ends lines with CRLF", () => {
    expect(
      toCsv(
        ["a", "b"],
        [
          { a: 'say "hi"', b: "x,y" },
          { a: "two\nlines", b: null },
        ],
      ),
    ).toBe('a,b\r\n"say ""hi""","x,y"\r\n"two\nlines",\r\n');
  });

  it("defuses cells a spreadsheet would run as formulas", () => {
    expect(csvCell('=HYPERLINK("http://evil")')).toBe('"\'=HYPERLINK(""http://evil"")"');
    expect(csvCell("+1")).toBe("'+1");
    expect(csvCell("-2")).toBe("'-2");
    expect(csvCell("@SUM(A1)")).toBe("'@SUM(A1)");
  });

  it("writes dates as ISO 8601 and objects as JSON", () => {
    expect(csvCell(new Date("2030-01-02T03:04:05Z"))).toBe("2030-01-02T03:04:05.000Z");
    expect(csvCell({ reason: "ok" })).toBe('"{""reason"":""ok""}"');
  });
});
