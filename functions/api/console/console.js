// The console's entry: sign in with a key (checked against the API before it is kept), then refresh the
// workspace's jobs, the open job's items, the last hour, the dead letters and the review queue while the tab
// is visible. A key
// the API stops accepting (401, 403) signs the tab out and wipes what was shown.

import { ApiError, call, onSimulated, session } from "./api.js";
import { drawChart } from "./chart.js";
import { DeadLetters } from "./dlq.js";
import { byId, el, percent, replace } from "./dom.js";
import { Items } from "./items.js";
import { Jobs } from "./jobs.js";
import { Review } from "./review.js";

const POLL_MS = 1500; // jobs and the open items page
const SLOW_EVERY = 5; // polls between two refreshes of the metrics and the dead letters

let timer = null;
let polls = 0;
let running = false;

function notify(text, kind = "info") {
  const notice = byId("notice");
  notice.textContent = text;
  notice.className = `notice ${kind}`;
}

function failed(error) {
  if (error instanceof ApiError && error.refusedKey) {
    signOut(`Signed out: ${error.message}`);
  } else if (error instanceof ApiError && error.status === 429) {
    notify(`The API asks to slow down (HTTP 429); retrying in ${error.retryAfter ?? "a few"} s`, "error");
  } else {
    notify(error.message, "error");
  }
}

const items = new Items({ onError: failed });
const jobs = new Jobs({ onOpenItems: (job) => items.open(job), notify, onError: failed });
const deadLetters = new DeadLetters({ notify, onError: failed, afterRedrive: () => jobs.refresh() });
const review = new Review({ notify, onError: failed });

onSimulated((simulated) => {
  byId("simulated").hidden = !simulated;
});

async function refreshMetrics() {
  const metrics = await call("GET", "/metrics");
  if (!session.key) return; // signed out meanwhile
  const figure = (label, value) => el("div", { class: "figure" }, el("strong", {}, String(value)), el("span", {}, label));
  replace(
    byId("figures"),
    figure("processed", metrics.items_processed_last_hour),
    figure("found", metrics.items_found_last_hour),
    figure("failed", metrics.items_failed_last_hour),
    figure("success rate", percent(metrics.success_rate)),
    figure("found rate", percent(metrics.found_rate)),
  );
  drawChart(byId("chart"), metrics.last_hour_series ?? []);
}

async function poll() {
  if (!session.key) return;
  if (!document.hidden) {
    try {
      await jobs.refresh();
      await items.poll();
      if (polls % SLOW_EVERY === 0) await Promise.all([refreshMetrics(), deadLetters.refresh(), review.refresh()]);
      polls += 1;
    } catch (error) {
      failed(error);
    }
  }
  if (running) timer = setTimeout(poll, POLL_MS);
}

function start() {
  running = true;
  polls = 0;
  byId("sign-in").hidden = true;
  byId("console").hidden = false;
  byId("sign-out").hidden = false;
  clearTimeout(timer);
  poll();
}

function signOut(message = "") {
  running = false;
  clearTimeout(timer);
  session.clear();
  jobs.clear();
  items.close();
  deadLetters.clear();
  review.clear();
  replace(byId("figures"));
  drawChart(byId("chart"), []);
  notify("");
  byId("console").hidden = true;
  byId("sign-out").hidden = true;
  byId("sign-in").hidden = false;
  byId("sign-in-error").textContent = message;
}

async function signIn(event) {
  event.preventDefault();
  const input = byId("api-key");
  const key = input.value.trim();
  const error = byId("sign-in-error");
  error.textContent = "";
  if (!key) {
    error.textContent = "Paste an API key first";
    return;
  }
  try {
    await call("GET", "/jobs", { query: { limit: 1 }, key }); // checked before it is kept
  } catch (refused) {
    error.textContent = refused instanceof ApiError && refused.refusedKey
      ? `The key was not accepted: ${refused.message}`
      : refused.message;
    return;
  }
  input.value = ""; // the key stays in session storage only, not in the form
  session.save(key);
  start();
}

function domainsOf(text) {
  return text.split(/[\s,;]+/).map((part) => part.trim()).filter(Boolean);
}

async function createJob(event) {
  event.preventDefault();
  const domains = domainsOf(byId("new-job-domains").value);
  if (!domains.length) {
    notify("Give at least one company domain", "error");
    return;
  }
  const tags = domainsOf(byId("new-job-tags").value);
  const body = { domains, priority: Number(byId("new-job-priority").value), ...(tags.length ? { tags } : {}) };
  const button = event.submitter ?? null;
  if (button) button.disabled = true;
  try {
    const job = await call("POST", "/jobs", { body });
    notify(`Job ${job.job_id} created with ${job.counters.total} items`);
    byId("new-job-domains").value = "";
    await jobs.first();
  } catch (error) {
    if (error instanceof ApiError && error.refusedKey) failed(error);
    else notify(`The job was not created: ${error.message}`, "error");
  } finally {
    if (button) button.disabled = false;
  }
}

byId("sign-in-form").addEventListener("submit", signIn);
byId("sign-out").addEventListener("click", () => signOut());
byId("new-job-form").addEventListener("submit", createJob);
document.addEventListener("visibilitychange", () => {
  if (!document.hidden && running) {
    clearTimeout(timer);
    poll();
  }
});

if (session.key) start();
