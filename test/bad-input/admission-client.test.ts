import { describe, expect, it } from "vitest";
import { warningTexts } from "./admission-client.ts";

describe("warningTexts", () => {
  it("reads each Warning header on its own, unescaping quotes, and ignores other headers", () => {
    expect(
      warningTexts([
        "Content-Type",
        "application/json",
        "Warning",
        '299 - "plan(s) a, b do not exist in namespace shop yet"',
        "warning",
        '299 - "Api x says \\"hi\\", twice"',
      ]),
    ).toEqual(["plan(s) a, b do not exist in namespace shop yet", 'Api x says "hi", twice']);
  });

  it("keeps a header that is not in warn-text form as it is", () => {
    expect(warningTexts(["Warning", "something odd"])).toEqual(["something odd"]);
    expect(warningTexts([])).toEqual([]);
  });
});
