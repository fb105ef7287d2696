/**
 * What must hold for notifications after a rollout survived crashes, as a pure function of what the test
 * expected, what the SMTP sink accepted and what the notification ledger recorded: every expected mail
 * arrived, to the right recipients, with the Message-ID derived from its effect key; nothing else arrived
 * or was planned; and any copy is one the residual window explains (operator/notifications/README.md): a
 * sender killed after the server accepted the message and before the ledger said 'sent', so the ledger
 * recorded the takeover of its claim, and the copy carries the same Message-ID. Such copies cannot exceed
 * the number of kills.
 */

/** A mail the test expects, by the effect key the operator derives from the state. */
export interface ExpectedMail {
  key: string;
  /** The envelope recipients. */
  to: readonly string[];
}

/** A mail the sink accepted, with the fields the checks read. */
export interface ArrivedMail {
  /** The X-Wicked-Effect-Key header; undefined when the mail had none. */
  effectKey: string | undefined;
  messageId: string;
  /** The envelope recipients. */
  to: readonly string[];
}

/** A row of the notification ledger (the fields the checks read). */
export interface LedgerFacts {
  effect_key: string;
  status: string;
  interrupted_attempts: number;
}

/** An effect whose mail arrived more than once. */
export interface MailCopies {
  key: string;
  /** How often it arrived. */
  copies: number;
  /** The distinct Message-IDs of the copies. */
  messageIds: string[];
  /** Claims of it the ledger saw taken over after they expired (its sender died or hung mid-send). */
  interrupted: number;
}

/** The counts a report prints. */
export interface MailReport {
  /** Notifications expected (distinct effect keys). */
  expected: number;
  /** Mails the sink accepted, copies included. */
  arrived: number;
  /** Distinct expected effect keys that arrived at least once. */
  delivered: number;
  /** Effects that arrived more than once. */
  copies: MailCopies[];
  /** Mails beyond the first of each effect: the copies from the residual window. */
  extraCopies: number;
  /** Interrupted claims the ledger recorded over all effects (a claim taken over after its sender died). */
  interruptedClaims: number;
}

/** The facts the mail checks look at. */
export interface MailFacts {
  expected: readonly ExpectedMail[];
  arrived: readonly ArrivedMail[];
  ledger: readonly LedgerFacts[];
  /** SIGKILLs of the sender during the run: each can leave at most one copy per send in flight. */
  kills: number;
  /** Sends in flight at once per sender (operator/notifications: sendConcurrency). */
  sendConcurrency: number;
  /** The Message-ID the sender derives from an effect key. */
  messageIdOf: (key: string) => string;
}

const normalized = (addresses: readonly string[]): string =>
  addresses
    .map((a) => a.toLowerCase())
    .sort()
    .join(", ");

/**
 * Every broken notification invariant, one message each (empty when delivery was exactly once up to the
 * residual window), and the counts for the report. Pure.
 */
export function mailProblems(f: MailFacts): { problems: string[]; report: MailReport } {
  const problems: string[] = [];
  const expected = new Map(f.expected.map((e) => [e.key, e]));
  if (expected.size !== f.expected.length) problems.push("The test expected some effect key twice");
  const byKey = new Map<string, ArrivedMail[]>();
  for (const mail of f.arrived) {
    const key = mail.effectKey;
    const want = key === undefined ? undefined : expected.get(key);
    if (key === undefined || want === undefined) {
      problems.push(
        `A mail ${mail.messageId} to ${mail.to.join(", ")} with effect key ${key ?? "(none)"} arrived, which no expected notification explains`,
      );
      continue;
    }
    byKey.set(key, [...(byKey.get(key) ?? []), mail]);
    if (normalized(mail.to) !== normalized(want.to))
      problems.push(`The mail ${key} went to ${mail.to.join(", ")}, not to ${want.to.join(", ")}`);
    if (mail.messageId !== f.messageIdOf(key))
      problems.push(`The mail ${key} carries the Message-ID ${mail.messageId}, not ${f.messageIdOf(key)}`);
  }
  for (const e of f.expected) {
    if (!byKey.has(e.key)) problems.push(`The mail ${e.key} to ${e.to.join(", ")} never arrived`);
  }

  const ledger = new Map(f.ledger.map((r) => [r.effect_key, r]));
  for (const row of f.ledger) {
    if (!expected.has(row.effect_key))
      problems.push(`The ledger planned ${row.effect_key}, which no expected notification explains`);
    else if (row.status !== "sent")
      problems.push(`The ledger says ${row.effect_key} is ${row.status}, not sent`);
  }
  for (const e of f.expected) {
    if (!ledger.has(e.key)) problems.push(`The ledger has no row for ${e.key}`);
  }

  const copies: MailCopies[] = [];
  for (const [key, mails] of byKey) {
    if (mails.length < 2) continue;
    const interrupted = ledger.get(key)?.interrupted_attempts ?? 0;
    const messageIds = [...new Set(mails.map((m) => m.messageId))];
    copies.push({ key, copies: mails.length, messageIds, interrupted });
    if (messageIds.length > 1)
      problems.push(
        `The ${mails.length} copies of ${key} carry different Message-IDs: ${messageIds.join(", ")}`,
      );
    if (mails.length - 1 > interrupted)
      problems.push(
        `${key} arrived ${mails.length} times, but the ledger recorded ${interrupted} interrupted send(s): a duplicate the residual window does not explain`,
      );
  }
  const extraCopies = copies.reduce((n, c) => n + c.copies - 1, 0);
  const window = f.kills * f.sendConcurrency;
  if (extraCopies > window)
    problems.push(
      `${extraCopies} copies arrived, more than ${f.kills} kill(s) with ${f.sendConcurrency} send(s) in flight each can explain`,
    );
  return {
    problems,
    report: {
      expected: expected.size,
      arrived: f.arrived.length,
      delivered: [...byKey.keys()].length,
      copies,
      extraCopies,
      interruptedClaims: f.ledger.reduce((n, r) => n + r.interrupted_attempts, 0),
    },
  };
}
