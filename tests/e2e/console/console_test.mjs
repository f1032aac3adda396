// The console in a real browser (Debian's chromium via playwright-core)
// against a real server; run by run_test.sh, which starts the server and
// exports UPFRONT_BASE, UPFRONT_ADMIN_KEY, UPFRONT_BINARY, UPFRONT_SIMULATED,
// UPFRONT_ARTIFACTS and CHROMIUM. Prints PASS/FAIL lines; exits 1 on any
// failure. Waits are for conditions (the page polls the server), never fixed.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set (run this through run_test.sh)`);
  return v;
};
const base = env("UPFRONT_BASE");
const adminKey = env("UPFRONT_ADMIN_KEY");
const artifacts = env("UPFRONT_ARTIFACTS");

let failures = 0;
function check(what, ok, detail = "") {
  console.log(`${ok ? "PASS" : "FAIL"}: ${what}${!ok && detail ? ` (${detail})` : ""}`);
  if (!ok) failures++;
  return ok;
}

async function http(method, path, key, body) {
  const init = { method, headers: { Authorization: `Bearer ${key}` } };
  if (body !== undefined) {
    init.body = typeof body === "string" ? body : JSON.stringify(body);
    init.headers["Content-Type"] = "application/json";
  }
  const res = await fetch(base + path, init);
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, json, text };
}

async function must(method, path, key, body) {
  const r = await http(method, path, key, body);
  if (r.status >= 300) throw new Error(`${method} ${path} answered ${r.status}: ${r.text.slice(0, 300)}`);
  return r.json;
}

async function until(what, fn, seconds = 60) {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${seconds} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

// A check on the page after a key press: the page handles it asynchronously,
// so look again for a while (a loaded machine renders late) before failing.
async function checkSoon(what, fn, seconds = 10) {
  const deadline = Date.now() + seconds * 1000;
  let ok = await fn();
  while (!ok && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    ok = await fn();
  }
  return check(what, ok);
}

const newKey = async (role, name) => (await must("POST", "/v1/keys", adminKey, { role, name })).secret;

// A zone where it is midday now, so quiet hours (21:00-08:00) hold nothing.
function middayZone() {
  const offset = 12 - new Date().getUTCHours();  // -11 .. 12
  return offset === 0 ? "Etc/GMT" : offset > 0 ? `Etc/GMT-${offset}` : `Etc/GMT+${-offset}`;
}

function shipment(customer, zone, i) {
  return { type: "track", userId: customer, event: "Shipment Delayed", messageId: `ship-${customer}-${i}`,
           timestamp: new Date().toISOString(), properties: { delay_days: 3, order_id: `o-${customer}` },
           context: { timezone: zone } };
}

async function main() {
  // --- keys, data, a second policy version
  const ingestKey = await newKey("ingest", "console-e2e");
  const agentKey = await newKey("agent", "ana");
  const analystKey = await newKey("analyst", "lee");
  const secondAdminKey = await newKey("admin", "sam");

  const sent = spawnSync(env("UPFRONT_BINARY"),
    ["send", env("UPFRONT_SIMULATED"), "--url", base, "--key", ingestKey, "--live", "--batch", "200"], { encoding: "utf8" });
  check("upfront send streamed the simulated day into the server", sent.status === 0, sent.stderr.slice(-500));
  const simulatedIds = [...new Set(readFileSync(env("UPFRONT_SIMULATED"), "utf8").split("\n").filter(Boolean)
    .map((line) => JSON.parse(line).userId).filter(Boolean))];

  const zone = middayZone();
  const customers = 11000;  // 5% are the holdout, never queued
  for (let start = 0; start < customers; start += 500) {
    const batch = [];
    for (let i = start; i < Math.min(customers, start + 500); i++) batch.push(shipment(`late-${i}`, zone, 0));
    const r = await must("POST", "/v1/batch", ingestKey, { batch });
    if (r.accepted !== batch.length) throw new Error(`batch at ${start}: ${JSON.stringify(r).slice(0, 300)}`);
  }
  const pending = await until("10,000 pending review items", async () => {
    const s = await must("GET", "/v1/stats", agentKey);
    return s.review_pending >= 10000 ? s.review_pending : 0;
  }, 120);
  check(`the queue holds ${pending} pending items (>= 10,000)`, pending >= 10000);

  const policyText = readFileSync(env("UPFRONT_POLICY"), "utf8").replace(/^version: .*$/m, 'version: "console-e2e-v2"');
  const uploaded = await fetch(`${base}/v1/policies`, { method: "POST", body: policyText,
    headers: { Authorization: `Bearer ${adminKey}`, "Content-Type": "application/yaml" } });
  check("a second policy version was uploaded (pending approval)", uploaded.status === 201, await uploaded.text());

  // --- the browser
  const browser = await chromium.launch({ executablePath: env("CHROMIUM"), headless: true,
                                          args: ["--no-sandbox", "--disable-dev-shm-usage"] });
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  const pageErrors = [];
  page.on("pageerror", (err) => pageErrors.push(err.message));
  const shot = (name) => page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true });

  async function signIn(key) {
    await page.goto(`${base}/console/`);
    await page.waitForSelector("#key");
    await page.fill("#key", key);
    await page.keyboard.press("Enter");
  }
  async function signOut() {
    await page.click("text=Sign out");
    await page.waitForSelector("#key");
  }

  // Sign-in with a bad key changes nothing and says why.
  await signIn("upk_not_a_key");
  await page.waitForSelector("#signin-error:not(:empty)");
  check("a wrong key is refused with a message", (await page.textContent("#signin-error")).includes("not valid"));
  await shot("signin");

  // --- agent: the review queue
  await signIn(agentKey);
  await page.waitForSelector('[data-testid="queue"] .row');
  const nav = await page.$$eval("#nav a", (as) => as.map((a) => a.dataset.page));
  check("an agent is offered review, customers and live operations only",
        JSON.stringify(nav) === JSON.stringify(["review", "customer", "live"]), JSON.stringify(nav));
  await until("the queue count", async () => Number(await page.textContent('[data-testid="queue-count"]')) >= 10000, 30);
  const shownCount = Number(await page.textContent('[data-testid="queue-count"]'));
  check(`the console shows the whole queue (${shownCount} items)`, shownCount >= 10000);
  const rendered = await page.$$eval('[data-testid="queue"] .row', (rows) => rows.length);
  check(`only the visible rows are in the page (${rendered} of ${shownCount}), so 10,000 items stay responsive`,
        rendered > 0 && rendered < 80);
  await shot("review");

  const queue = await must("GET", "/v1/review?status=pending&limit=100000", agentKey);
  const selectedId = () => page.getAttribute('[data-testid="queue"] .row.selected', "data-review-id");
  const timed = async (key) => {
    const t0 = Date.now();
    await page.keyboard.press(key);
    return Date.now() - t0;
  };
  const endMs = await timed("End");
  await until("End to select the last item", async () => (await selectedId()) === queue[queue.length - 1].review_id, 10);
  check(`End selects the last of ${queue.length} items (${endMs} ms)`, (await selectedId()) === queue[queue.length - 1].review_id);
  await page.keyboard.press("Home");
  await page.keyboard.press("j");
  await page.keyboard.press("j");
  await page.keyboard.press("k");
  await checkSoon("Home, j, j, k select the second item", async () => (await selectedId()) === queue[1].review_id);

  // Approve with an edit, keyboard only: the first item of a simulated
  // customer (else the second item), reached with PageDown and j.
  const simulated = new Set(simulatedIds);
  let targetIndex = queue.findIndex((i) => simulated.has(i.customer));
  if (targetIndex < 0) targetIndex = 1;
  const target = queue[targetIndex];
  await page.keyboard.press("Home");
  for (let k = 0; k < Math.floor(targetIndex / 10); k++) await page.keyboard.press("PageDown");
  for (let k = 0; k < targetIndex % 10; k++) await page.keyboard.press("j");
  await checkSoon(`PageDown and j reach item ${targetIndex + 1} (${target.customer})`,
                  async () => (await selectedId()) === target.review_id);
  const edited = `Your order ${target.customer} is 3 days late; we have upgraded your shipping. (edited by ana)`;
  await page.keyboard.press("e");
  await checkSoon("e puts the cursor in the message editor",
                  () => page.evaluate(() => document.activeElement?.id === "edit-message"));
  await page.keyboard.press("Control+A");
  await page.keyboard.type(edited);
  await page.keyboard.press("Control+Enter");
  const nudge = await until("the edited nudge to be delivered", async () => {
    const r = await must("GET", `/v1/customers/${encodeURIComponent(target.customer)}/nudges`, agentKey);
    return (Array.isArray(r) ? r : r.nudges ?? []).find((n) => n.message === edited);
  }, 30);
  check("the approved, edited message is what gets delivered to the customer's app", nudge?.message === edited);
  const approved = await must("GET", "/v1/review?status=approved&limit=100", agentKey);
  check("the item is recorded as approved with the edit",
        approved.some((i) => i.review_id === target.review_id && (i.message === edited || i.final_message === edited)),
        JSON.stringify(approved.find((i) => i.review_id === target.review_id) ?? null).slice(0, 400));
  await checkSoon("the approved item left the list", async () => (await selectedId()) !== target.review_id);

  // Reject, keyboard only: r, type the reason, Enter.
  const rejectedId = await selectedId();
  await page.keyboard.press("r");
  await checkSoon("r puts the cursor in the reason field",
                  () => page.evaluate(() => document.activeElement?.id === "reject-reason"));
  await page.keyboard.type("customer already called us");
  await page.keyboard.press("Enter");
  const rejected = await until("the rejection", async () => {
    const items = await must("GET", "/v1/review?status=rejected&limit=100", agentKey);
    return items.find((i) => i.review_id === rejectedId);
  }, 30);
  check("the rejection is recorded with its reason", JSON.stringify(rejected).includes("customer already called us"));

  // Live updates: a new item appears without a reload.
  const before = Number(await page.textContent('[data-testid="queue-count"]'));
  await must("POST", "/v1/batch", ingestKey, { batch: [shipment("late-newcomer", zone, 0)] });
  await until("the new item to show", async () => Number(await page.textContent('[data-testid="queue-count"]')) === before + 1, 30);
  await page.keyboard.press("End");
  await until("the newcomer at the end", async () =>
    (await page.textContent('[data-testid="queue"] .row.selected'))?.includes("late-newcomer"), 10);
  check("a new review item appears in the open queue by itself", true);

  // --- agent: a simulated customer's timeline shows a decision's explanation
  let story = null;
  for (const id of simulatedIds) {
    const decisions = await must("GET", `/v1/customers/${encodeURIComponent(id)}/decisions?limit=50`, agentKey);
    const list = Array.isArray(decisions) ? decisions : decisions.decisions ?? [];
    const d = list.find((x) => x.explanation?.why && x.action === "deliver");
    if (d) { story = { id, why: d.explanation.why, decision: d.decision_id }; break; }
  }
  if (check("a simulated customer got a delivered decision with an explanation", story !== null)) {
    await page.click('#nav a[data-page="customer"]');
    await page.waitForSelector("#customer-search");
    await page.fill("#customer-search", story.id);
    await page.keyboard.press("Enter");
    await page.waitForSelector('[data-testid="timeline"]');
    const whys = await page.$$eval(`[data-decision-id="${story.decision}"] [data-testid="explanation"]`, (els) => els.map((e) => e.textContent));
    check(`the timeline of ${story.id} shows the decision's explanation`, whys.includes(story.why), JSON.stringify(whys));
    const points = await page.$$eval("svg.spark", (svgs) => svgs.map((s) => Number(s.dataset.points)));
    check("each signal has a chart of its score over time", points.length > 0 && points.some((p) => p > 0), JSON.stringify(points));
    await shot("customer");
  }

  // --- agent: live operations
  await page.click('#nav a[data-page="live"]');
  await page.waitForSelector('[data-testid="live-cards"]');
  const liveText = await page.textContent('[data-testid="live-cards"]');
  check("live operations show the review queue depth", liveText.includes("Review queue"));
  const firstUpdate = await page.textContent("#live-updated");
  await until("the live page to refresh by itself", async () => (await page.textContent("#live-updated")) !== firstUpdate, 15);
  check("live operations refresh by themselves", true);
  await shot("live");
  await signOut();

  // --- analyst: scorecard and policies, without the approve button
  await signIn(analystKey);
  await page.waitForSelector("#nav a");
  const analystNav = await page.$$eval("#nav a", (as) => as.map((a) => a.dataset.page));
  check("an analyst is offered the scorecard and policies", analystNav.includes("scorecard") && analystNav.includes("policies"),
        JSON.stringify(analystNav));
  await page.waitForSelector('[data-testid="queue"]');
  check("an analyst sees the queue but no approve button", (await page.$('[data-testid="approve"]')) === null);
  await page.click('#nav a[data-page="scorecard"]');
  await page.waitForSelector('[data-testid="headline"] .card', { timeout: 60000 });
  const metrics = await page.$$eval('[data-testid="headline"] .card', (cards) => cards.map((c) => c.dataset.metric));
  check("the scorecard shows CSAT, NPS, FCR and LTV", ["csat", "nps", "fcr", "ltv"].every((m) => metrics.includes(m)), JSON.stringify(metrics));
  check("the scorecard draws its lifts", (await page.$$("svg.chart")).length > 0);
  await shot("scorecard");
  await page.click('#nav a[data-page="policies"]');
  await page.waitForSelector('[data-testid="policies"] tr[data-version="2"]');
  check("an analyst cannot see the policy approve button", (await page.$('button[data-action="approve"]')) === null);
  check("the policy diff is shown", ((await page.textContent('[data-testid="policy-diff"]')) ?? "").includes("console-e2e-v2"));
  await shot("policies");
  await signOut();

  // --- a second admin: may approve, and does
  await signIn(secondAdminKey);
  await page.waitForSelector("#nav a");
  await page.click('#nav a[data-page="policies"]');
  await page.waitForSelector('[data-testid="policies"] tr[data-version="2"]');
  const approveButton = await page.$('tr[data-version="2"] button[data-action="approve"]');
  check("an admin sees the approve button on the pending version", approveButton !== null);
  if (approveButton) {
    await approveButton.click();
    await page.waitForSelector('tr[data-version="2"] button[data-action="activate"]');
    const versions = await must("GET", "/v1/policies", analystKey);
    check("approving in the console approves the version (by sam)", versions.find((v) => v.number === 2)?.approved_by === "sam");
  }
  await shot("policies-admin");

  check("no script errors in the page", pageErrors.length === 0, pageErrors.join("; "));
  await browser.close();
}

main().then(() => {
  if (failures) {
    console.log(`FAIL: ${failures} check(s) failed`);
    process.exit(1);
  }
}, (err) => {
  console.log(`FAIL: ${err.stack ?? err}`);
  process.exit(1);
});
