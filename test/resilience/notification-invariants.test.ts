import { describe, expect, it } from "vitest";
import {
  type ArrivedMail,
  type ExpectedMail,
  type LedgerFacts,
  type MailFacts,
  mailProblems,
} from "./notification-invariants.ts";

const messageIdOf = (key: string) => `<wicked.${key}@portal.example.com>`;
const expected: ExpectedMail[] = [
  { key: "mail:approval-required:u1:t1", to: ["approvers@example.com"] },
  { key: "mail:subscription-approved:u1:t2", to: ["dev@example.com"] },
];
const arrival = (e: ExpectedMail): ArrivedMail => ({
  effectKey: e.key,
  messageId: messageIdOf(e.key),
  to: e.to,
});
const sent = (key: string, interrupted = 0): LedgerFacts => ({
  effect_key: key,
  status: "sent",
  interrupted_attempts: interrupted,
});

/** Every expected mail arrived once and the ledger says each was sent. */
function exactlyOnce(): MailFacts {
  return {
    expected,
    arrived: expected.map(arrival),
    ledger: expected.map((e) => sent(e.key)),
    kills: 3,
    sendConcurrency: 2,
    messageIdOf,
  };
}

describe("mailProblems", () => {
  it("finds nothing wrong with exactly-once delivery", () => {
    const { problems, report } = mailProblems(exactlyOnce());
    expect(problems).toEqual([]);
    expect(report).toEqual({
      expected: 2,
      arrived: 2,
      delivered: 2,
      copies: [],
      extraCopies: 0,
      interruptedClaims: 0,
    });
  });

  it("reports a lost mail", () => {
    const facts = { ...exactlyOnce(), arrived: [arrival(expected[0] as ExpectedMail)] };
    expect(mailProblems(facts).problems).toEqual([
      "The mail mail:subscription-approved:u1:t2 to dev@example.com never arrived",
    ]);
  });

  it("accepts a copy with the same Message-ID when the ledger recorded the interrupted send", () => {
    const first = expected[0] as ExpectedMail;
    const facts: MailFacts = {
      ...exactlyOnce(),
      arrived: [...expected.map(arrival), arrival(first)],
      ledger: [sent(first.key, 1), sent(expected[1]?.key ?? "")],
    };
    const { problems, report } = mailProblems(facts);
    expect(problems).toEqual([]);
    expect(report.copies).toEqual([
      { key: first.key, copies: 2, messageIds: [messageIdOf(first.key)], interrupted: 1 },
    ]);
    expect(report.extraCopies).toBe(1);
    expect(report.interruptedClaims).toBe(1);
  });

  it("refuses a copy the ledger does not explain", () => {
    const first = expected[0] as ExpectedMail;
    const facts = { ...exactlyOnce(), arrived: [...expected.map(arrival), arrival(first)] };
    expect(mailProblems(facts).problems).toEqual([
      `${first.key} arrived 2 times, but the ledger recorded 0 interrupted send(s): a duplicate the residual window does not explain`,
    ]);
  });

  it("refuses copies with different Message-IDs", () => {
    const first = expected[0] as ExpectedMail;
    const facts: MailFacts = {
      ...exactlyOnce(),
      arrived: [...expected.map(arrival), { ...arrival(first), messageId: "<other@portal.example.com>" }],
      ledger: [sent(first.key, 1), sent(expected[1]?.key ?? "")],
    };
    const { problems } = mailProblems(facts);
    expect(problems).toHaveLength(2);
    expect(problems[0]).toContain("carries the Message-ID <other@portal.example.com>");
    expect(problems[1]).toContain("copies of mail:approval-required:u1:t1 carry different Message-IDs");
  });

  it("refuses more copies than the kills can explain", () => {
    const first = expected[0] as ExpectedMail;
    const facts: MailFacts = {
      ...exactlyOnce(),
      kills: 1,
      sendConcurrency: 1,
      arrived: [...expected.map(arrival), arrival(first), arrival(first)],
      ledger: [sent(first.key, 2), sent(expected[1]?.key ?? "")],
    };
    expect(mailProblems(facts).problems).toEqual([
      "2 copies arrived, more than 1 kill(s) with 1 send(s) in flight each can explain",
    ]);
  });

  it("refuses mails and ledger rows nobody expected, and mails to the wrong recipients", () => {
    const facts: MailFacts = {
      ...exactlyOnce(),
      arrived: [
        arrival(expected[0] as ExpectedMail),
        { ...arrival(expected[1] as ExpectedMail), to: ["someone@example.com"] },
        { effectKey: "mail:subscription-approved:auto:t3", messageId: "<x@y>", to: ["dev@example.com"] },
        { effectKey: undefined, messageId: "<z@y>", to: ["dev@example.com"] },
      ],
      ledger: [...expected.map((e) => sent(e.key)), sent("mail:subscription-approved:auto:t3")],
    };
    expect(mailProblems(facts).problems).toEqual([
      "The mail mail:subscription-approved:u1:t2 went to someone@example.com, not to dev@example.com",
      "A mail <x@y> to dev@example.com with effect key mail:subscription-approved:auto:t3 arrived, which no expected notification explains",
      "A mail <z@y> to dev@example.com with effect key (none) arrived, which no expected notification explains",
      "The ledger planned mail:subscription-approved:auto:t3, which no expected notification explains",
    ]);
  });

  it("refuses effects the ledger does not say were sent", () => {
    const facts: MailFacts = {
      ...exactlyOnce(),
      ledger: [{ ...sent(expected[0]?.key ?? ""), status: "sending" }],
    };
    expect(mailProblems(facts).problems).toEqual([
      "The ledger says mail:approval-required:u1:t1 is sending, not sent",
      "The ledger has no row for mail:subscription-approved:u1:t2",
    ]);
  });
});
