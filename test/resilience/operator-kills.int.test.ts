/**
 * Resilience: the operator is SIGKILLed again and again while it rolls out 500 Subscriptions, and restarted
 * each time, until all are Active. The rollout must converge with every committed write kept (credentials
 * Secret, read-model row) and nothing duplicated in Kong.
 *
 * A kill comes a random moment after the restarted operator has made some progress (a random number of Kong
 * writes), so kills land in the middle of Kong syncs, Secret and status writes, and the rollout keeps moving
 * however slow the machine is.
 *
 * The portal mails, and 60 more Subscriptions, spread among the 500, are under a Plan that needs approval:
 * their approval requests are mailed to the approvers while the kills go on, and the test approves them in
 * batches after the second, fourth and sixth kill, so the owner's "approved" mails are planned and sent
 * across kills too. Each is approved once its request is in the notification ledger: the notifications are
 * level-triggered, and a Subscription approved before the operator saw it pending is, by design, not told
 * about (operator/notifications/README.md, Limits). Afterwards every expected mail must have arrived, none
 * other, and no copy but those the residual window explains (a kill after the SMTP server accepted a mail and
 * before the ledger said so: the copy carries the same Message-ID and the ledger counted the takeover).
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { messageIdFor } from "../../operator/notifications/mail.ts";
import { DEFAULT_TUNING } from "../../operator/notifications/options.ts";
import { seededRandom } from "../kong/random.ts";
import { conditionOf, type Json } from "../support/cluster.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { summarize } from "./invariants.ts";
import { type ExpectedMail, mailProblems } from "./notification-invariants.ts";
import {
  APPROVAL_PLAN,
  APPROVERS,
  createWorld,
  isLeading,
  keysWork,
  MAIL_FROM,
  type MailWorld,
  OWNER,
  PLAN,
  seconds,
  stats,
  subscriptionNames,
  type World,
} from "./portal-world.ts";

/** Subscriptions under the Plan without approval. */
const SUBSCRIPTIONS = 500;
/** Subscriptions under the Plan that needs approval, spread among the others. */
const APPROVALS = Number(process.env.WICKED_RESILIENCE_APPROVALS ?? 60);
const TOTAL = SUBSCRIPTIONS + APPROVALS;
/** After which kills a batch of approvals is due; the last one approves the rest. */
const APPROVE_AFTER_KILLS = [2, 4, 6];
/** Who approves. */
const APPROVER = "approver@example.com";
/** Kills stop after this many (the rollout then completes without), so a slow machine still finishes. */
const MAX_KILLS = Number(process.env.WICKED_RESILIENCE_KILLS ?? 8);
const SEED = Number(process.env.WICKED_RESILIENCE_SEED ?? 20261128);

let database: TestDatabase;
let world: World;

/** One SIGKILL and what followed. */
interface Kill {
  /** Active Subscriptions when it came. */
  active: number;
  /** How long the killed operator had led. */
  ledMs: number;
  /** Kong writes the killed operator made. */
  kongWrites: number;
  /** From the kill to the restarted operator leading. */
  toLeaderMs: number;
  /** From the kill to the restarted operator's first Kong write. */
  toFirstWriteMs?: number;
  /** Mails the SMTP sink had accepted when it came. */
  mails: number;
}

/** An approval-plan Subscription the test approved, and the approval request it was approved after. */
interface Approval {
  uid: string;
  /** The effect key of the approval request's mail, as the ledger had planned it. */
  requestKey: string;
}

beforeAll(async () => {
  database = await createTestDatabase(inject("databaseUrl"));
  world = await createWorld({
    kubeconfig: inject("kubeconfig"),
    databaseUrl: database.url,
    prefix: "kills",
    mail: true,
  });
});

afterAll(async () => {
  await world?.stop();
  await database?.drop();
});

function mailOf(w: World): MailWorld {
  if (!w.mail) throw new Error("the world was created without mail");
  return w.mail;
}

const approved = new Map<string, Approval>();
/** Subscriptions that can become Active: all without approval and those approved so far. */
const reachable = () => SUBSCRIPTIONS + approved.size;
const approvalNames = subscriptionNames(APPROVALS, "appr");

/** The auto-approved names with the approval-plan names spread evenly among them, in creation order. */
function creationOrder(): string[] {
  const order: string[] = [];
  let next = 0;
  for (const [i, name] of subscriptionNames(SUBSCRIPTIONS).entries()) {
    order.push(name);
    while (next < APPROVALS && next * SUBSCRIPTIONS <= i * APPROVALS) order.push(approvalNames[next++] ?? "");
  }
  return [...order, ...approvalNames.slice(next)];
}

/**
 * Approves up to `max` approval-plan Subscriptions that are PendingApproval with their approval request
 * planned in the ledger; with `waitMs`, waits that long for one to be. Returns how many it approved.
 */
async function approveReady(max: number, waitMs = 0): Promise<number> {
  const ready = async () => {
    const planned = new Set((await mailOf(world).ledger()).map((r) => r.effect_key));
    const subs = await world.kube.listWicked("subscriptions", world.namespace);
    return subs.flatMap((sub: Json) => {
      const name = String(sub.metadata.name);
      const condition = conditionOf(sub, "Approved");
      const requestKey = `mail:approval-required:${sub.metadata.uid}:${condition?.lastTransitionTime}`;
      return sub.spec.planRef.name === APPROVAL_PLAN &&
        !approved.has(name) &&
        condition?.status === "False" &&
        condition.reason === "PendingApproval" &&
        planned.has(requestKey)
        ? [{ name, approval: { uid: String(sub.metadata.uid), requestKey } }]
        : [];
    });
  };
  const candidates =
    waitMs > 0
      ? await world.eventually(
          "an approval request in the notification ledger",
          async () => {
            const r = await ready();
            return r.length > 0 && r;
          },
          waitMs,
        )
      : await ready();
  const batch = candidates.slice(0, max);
  for (const { name, approval } of batch) {
    await world.approve(name, APPROVER);
    approved.set(name, approval);
  }
  return batch.length;
}

/** Resolves once the Kong writes grew by `n`, or with false once every Subscription that can be is Active. */
async function kongWritesGrow(n: number): Promise<boolean> {
  const target = world.kong.writes + n;
  for (let i = 1; world.kong.writes < target; i++) {
    if (i % 20 === 0 && (await world.progress()).active >= reachable()) return false;
    await new Promise((r) => setTimeout(r, 500));
  }
  return true;
}

/**
 * The mails the final state implies: per approval-plan Subscription, the request to the approvers of the
 * round the test approved after, and the approval to the owner of the round the Approved condition names.
 * None for Subscriptions auto-approved by their Plan. Also the Subscriptions whose Approved condition is not
 * what the test made of them.
 */
function expectedMails(subs: readonly Json[]): { expected: ExpectedMail[]; wrong: string[] } {
  const expected: ExpectedMail[] = [];
  const wrong: string[] = [];
  for (const sub of subs) {
    const name = String(sub.metadata.name);
    const condition = conditionOf(sub, "Approved");
    const approval = approved.get(name);
    const want = approval ? "Approved" : "AutoApproved";
    if (condition?.status !== "True" || condition.reason !== want)
      wrong.push(
        `Subscription ${name} is Approved=${condition?.status}/${condition?.reason}, not True/${want}`,
      );
    if (!approval) continue;
    expected.push(
      { key: approval.requestKey, to: [APPROVERS] },
      {
        key: `mail:subscription-approved:${sub.metadata.uid}:${condition?.lastTransitionTime}`,
        to: [OWNER],
      },
    );
  }
  return { expected, wrong };
}

/** Waits until every expected mail arrived, the ledger has nothing left to send, and the sink is quiet. */
async function mailSettles(expected: readonly ExpectedMail[], timeoutMs: number): Promise<void> {
  const mail = mailOf(world);
  const keys = () => new Set(mail.sink.messages.map((m) => m.headers.get("x-wicked-effect-key")));
  let seen = -1;
  let quietSince = Date.now();
  await world.eventually(
    "every expected mail delivered, the notification ledger idle and the SMTP sink quiet for 6 s",
    async () => {
      if (mail.sink.messages.length !== seen) {
        seen = mail.sink.messages.length;
        quietSince = Date.now();
      }
      const arrived = keys();
      return (
        expected.every((e) => arrived.has(e.key)) && (await mail.idle()) && Date.now() - quietSince >= 6_000
      );
    },
    timeoutMs,
  );
}

/** When the Kong double answered its first write after `writes` writes; undefined after two minutes without. */
async function firstWriteAfter(writes: number): Promise<number | undefined> {
  const deadline = Date.now() + 120_000;
  while (world.kong.writes <= writes) {
    if (Date.now() > deadline) return undefined;
    await new Promise((r) => setTimeout(r, 200));
  }
  return Date.now();
}

describe("operator SIGKILLed during a rollout", () => {
  it(`converges on ${TOTAL} Active Subscriptions with no lost writes, no duplicate Kong entities and every mail once`, {
    timeout: 1_800_000,
  }, async () => {
    const random = seededRandom(SEED);
    const lease = `/apis/coordination.k8s.io/v1/namespaces/${world.namespace}/leases/wicked-operator`;
    const mail = mailOf(world);
    const started = Date.now();
    const approvalPlan = new Set(approvalNames);
    await world.createSubscriptions(creationOrder(), (name) =>
      approvalPlan.has(name) ? APPROVAL_PLAN : PLAN,
    );
    console.log(
      `Created ${TOTAL} Subscriptions (${APPROVALS} of them need approval) in ${seconds(Date.now() - started)}`,
    );

    const kills: Kill[] = [];
    /** How many were approved after each number of kills. */
    const batches = new Map<number, number>();
    const approveBatch = async (max: number, waitMs = 0) => {
      const n = await approveReady(max, waitMs);
      if (n > 0) batches.set(kills.length, (batches.get(kills.length) ?? 0) + n);
    };
    let leaderSince = Date.now();
    let writesAtLead = world.kong.writes;
    while (kills.length < MAX_KILLS) {
      // Approvals due by now (a batch after the 2nd, 4th and 6th kill, catching up on any not yet ready).
      const due = APPROVE_AFTER_KILLS.filter((k) => kills.length >= k).length;
      const allowed =
        due === APPROVE_AFTER_KILLS.length
          ? APPROVALS
          : Math.ceil((APPROVALS * due) / APPROVE_AFTER_KILLS.length);
      if (allowed > approved.size) await approveBatch(allowed - approved.size);
      // 2 to 8 subscriptions' worth of Kong writes (4 each), then up to 1 s more: an operator that settles
      // 560 Subscriptions in about 15 s must be killed often to be killed part-way at least 5 times.
      const grew = await kongWritesGrow(8 + Math.floor(random() * 24));
      if (grew) await new Promise((r) => setTimeout(r, random() * 1_000));
      const op = world.operator;
      if (!op) throw new Error("no operator is running");
      const { active } = await world.progress();
      if (!grew || active >= reachable()) {
        // Nothing left to do but approve: do it now rather than stop killing.
        if (approved.size === APPROVALS) break;
        await approveBatch(APPROVALS, 300_000);
        continue;
      }
      const killedAt = Date.now();
      await op.kill();
      const ledMs = killedAt - leaderSince;
      const kongWrites = world.kong.writes - writesAtLead;
      // The process is gone (kill() waited for its exit), so its Lease is void: delete it rather than wait out
      // the 15 s lease duration. Takeover after a real expiry is the ApiPortal suite's test; this one is
      // about half-done reconciles.
      await world.kube.deletePath(lease);
      const writesAtKill = world.kong.writes;
      const next = await world.startOperator();
      await world.eventually("the restarted operator leads", () => isLeading(next), 120_000);
      leaderSince = Date.now();
      writesAtLead = world.kong.writes;
      const kill: Kill = {
        active,
        ledMs,
        kongWrites,
        toLeaderMs: leaderSince - killedAt,
        mails: mail.sink.messages.length,
      };
      kills.push(kill);
      void firstWriteAfter(writesAtKill).then((at) => {
        if (at !== undefined) kill.toFirstWriteMs = at - killedAt;
      });
      console.log(
        `SIGKILL ${kills.length}: ${active}/${TOTAL} Active, ${approved.size} approved, ${kill.mails} mails arrived, ${kongWrites} Kong writes by the killed operator; restarted operator leads ${seconds(kill.toLeaderMs)} later`,
      );
    }
    const lastRestart = leaderSince;
    while (approved.size < APPROVALS) await approveBatch(APPROVALS, 300_000);
    await world.allActive(TOTAL, 1_200_000);
    const converged = Date.now();
    const { problems, counts } = await world.agreement(120_000);
    const midRollout = kills.filter((k) => k.active < TOTAL).length;

    const { expected, wrong } = expectedMails(await world.kube.listWicked("subscriptions", world.namespace));
    await mailSettles(expected, 300_000).catch(() => undefined);
    const settled = Date.now();
    const { problems: mailIssues, report } = mailProblems({
      expected,
      arrived: mail.sink.messages.map((m) => ({
        effectKey: m.headers.get("x-wicked-effect-key"),
        messageId: m.messageId,
        to: m.envelope.to,
      })),
      ledger: await mail.ledger(),
      kills: kills.length,
      sendConcurrency: DEFAULT_TUNING.sendConcurrency,
      messageIdOf: (key) => messageIdFor(key, MAIL_FROM),
    });
    const midMail = kills.filter((k) => k.mails > 0 && k.mails < report.expected).length;
    console.log(
      [
        `Operator SIGKILLed during a rollout of ${TOTAL} Subscriptions, ${APPROVALS} of them approved during the kills (seed ${SEED}):`,
        `  kills: ${kills.length}, all with the rollout part-way: ${midRollout === kills.length}; operator processes: ${kills.length + 1}`,
        `  Active at each kill: ${kills.map((k) => k.active).join(", ")}`,
        `  each killed operator had led for: ${kills.map((k) => seconds(k.ledMs)).join(", ")}`,
        `  Kong writes by each killed operator: ${kills.map((k) => k.kongWrites).join(", ")}`,
        `  recovery, kill -> restarted operator leads: ${stats(kills.map((k) => k.toLeaderMs))}`,
        `  recovery, kill -> restarted operator's first Kong write: ${stats(kills.flatMap((k) => (k.toFirstWriteMs === undefined ? [] : [k.toFirstWriteMs])))}`,
        `  last restart -> all Active: ${seconds(converged - lastRestart)}; create -> all Active: ${seconds(converged - started)}`,
        `  Kong: ${counts.consumers} consumers, ${counts.keyAuths} key-auth credentials, ${counts.acls} ACL entries, ${counts.rateLimitingPlugins} consumer rate-limiting plugins; ${world.kong.writes} Admin API writes in all`,
        `  read model: ${counts.rows} Subscription rows; credentials Secrets: ${counts.secrets}`,
        `  approvals: ${[...batches].map(([kill, n]) => `${n} after kill ${kill}`).join(", ")}`,
        `  mails arrived at each kill: ${kills.map((k) => k.mails).join(", ")}; kills with mails part-way: ${midMail}`,
        `  notifications: ${report.expected} expected (${APPROVALS} approval-required to ${APPROVERS}, ${APPROVALS} subscription-approved to ${OWNER}, none for the ${SUBSCRIPTIONS} auto-approved), ${report.delivered} delivered, ${report.arrived} mails accepted by the SMTP sink`,
        `  duplicates with the same Message-ID (residual window): ${report.extraCopies} (bound: ${kills.length} kills x ${DEFAULT_TUNING.sendConcurrency} sends in flight); claims taken over from killed operators: ${report.interruptedClaims}`,
        ...report.copies.map(
          (c) =>
            `    ${c.key}: ${c.copies} copies, Message-ID ${c.messageIds.join(" / ")}, ${c.interrupted} interrupted`,
        ),
        `  all Active -> mail settled: ${seconds(settled - converged)}`,
      ].join("\n"),
    );
    expect(summarize(problems)).toBe("no problems");
    expect(summarize([...wrong, ...mailIssues])).toBe("no problems");
    expect(midMail).toBeGreaterThan(0);
    expect(kills.length).toBeGreaterThanOrEqual(Math.min(MAX_KILLS, 5));
    expect(midRollout).toBe(kills.length);
    // Progress between the kills, not only after the last one: Subscriptions turn Active while it is killed.
    expect(
      kills.at(-1)?.active ?? 0,
      `Active at each kill: ${kills.map((k) => k.active).join(", ")}`,
    ).toBeGreaterThan(kills[0]?.active ?? 0);
    expect(world.kong.unexpectedErrors).toEqual([]);
    expect(
      await keysWork(world, [
        "sub-000-credentials",
        "sub-250-credentials",
        "sub-499-credentials",
        `${approvalNames.at(-1)}-credentials`,
      ]),
    ).toEqual([]);
  });
});
