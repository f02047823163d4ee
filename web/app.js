// Doc Flow's page: stage files (drop or picker), choose a target per file, upload with progress,
// then follow this browser's jobs live over the WebSocket (re-synced from /api/jobs after every
// reconnect). No build step: plain ES modules served by nginx.
import { api, ApiError, formatBytes, upload } from './api.js';

const $ = (id) => document.getElementById(id);
const els = {
  drop: $('drop'), file: $('file'), staged: $('staged'), convert: $('convert'), clear: $('clear'),
  error: $('error'), jobs: $('jobs'), empty: $('empty'), live: $('live'), connection: $('connection'),
  quotaMeter: $('quota-meter'), quotaText: $('quota-text'), expiry: $('expiry'), accepted: $('accepted'),
  notice: $('notice'),
};

// The target preselected for each source format, when the server offers it.
const PREFERRED = {
  md: 'html', html: 'md', txt: 'pdf', csv: 'xlsx', xlsx: 'csv', json: 'csv', jsonl: 'csv', parquet: 'csv',
  docx: 'pdf', pptx: 'pdf', pdf: 'txt',
};
const STATUS = {
  PENDING: 'Queued', PROCESSING: 'Converting', DONE: 'Done', FAILED: 'Failed', CANCELED: 'Canceled',
};

let formats = [];
let formatsLoaded = false;
// Resolves once the list of formats is known (or could not be had): files staged before wait.
let formatsReady = Promise.resolve();
// Whether this browser has a client (a live client_id cookie): set by /api/usage or an upload.
let haveClient = false;
let uploadLimit = 250 * 1024 * 1024; // nginx's client_max_body_size; /api/usage's bytes_limit
const staged = new Map(); // key → { file, li }
const jobs = new Map(); // id → job
let stagedSeq = 0;

// ---- loading, patiently --------------------------------------------------------------------

// What is being waited for (name → seconds until the next try), said in the notice line.
const waiting = new Map();

function showWaiting() {
  if (waiting.size === 0) {
    els.notice.hidden = true;
    els.notice.textContent = '';
    return;
  }
  const [what, seconds] = [...waiting.entries()].at(-1);
  els.notice.hidden = false;
  els.notice.textContent = `The service is busy: ${what} could not be loaded yet. Trying again in ${Math.ceil(seconds)} s…`;
}

// Runs `load` until it succeeds. A transient failure (busy, unreachable, starting) is tried again
// after the answer's Retry-After or a doubling delay (1 s, 2 s … 30 s), and the notice line says
// so; any other failure is thrown.
async function patiently(what, load) {
  let delay = 1;
  for (;;) {
    try {
      const result = await load();
      waiting.delete(what);
      showWaiting();
      return result;
    } catch (e) {
      if (!(e instanceof ApiError) || !e.transient) {
        waiting.delete(what);
        showWaiting();
        throw e;
      }
      const seconds = Math.min(60, Math.max(e.retryAfter ?? 0, delay));
      waiting.set(what, seconds);
      showWaiting();
      await new Promise((resolve) => { setTimeout(resolve, seconds * 1000 * (0.8 + Math.random() * 0.4)); });
      delay = Math.min(delay * 2, 30);
    }
  }
}

function loadFormats() {
  els.accepted.textContent = 'Loading the list of formats…';
  formatsReady = patiently('the list of formats', () => api.formats()).then((answer) => {
    formats = answer.formats;
    formatsLoaded = true;
    els.accepted.textContent = `Accepted: ${acceptedExtensions().join(' ')}`;
  }, (e) => {
    els.accepted.textContent = '';
    els.error.textContent = `The list of formats could not be loaded: ${e.message} Reload the page to try again.`;
  });
  return formatsReady;
}

// ---- formats and staging -------------------------------------------------------------------

function sourceFormat(name) {
  const ext = name.includes('.') ? name.split('.').pop().toLowerCase() : '';
  return formats.find((f) => f.readable && f.extensions.includes(ext));
}

function formatName(id) {
  return formats.find((f) => f.id === id)?.name ?? id;
}

// Stages files once the formats are known (a file dropped while they load waits for them).
async function stageAll(files) {
  await formatsReady;
  for (const f of files) stage(f);
}

function stage(file) {
  const key = `f${stagedSeq += 1}`;
  const li = $('staged-item').content.firstElementChild.cloneNode(true);
  li.dataset.key = key;
  li.querySelector('.name').textContent = file.name;
  li.querySelector('.size').textContent = formatBytes(file.size);
  const select = li.querySelector('.target');
  const source = sourceFormat(file.name);
  const problem = li.querySelector('.problem');
  const id = `target-${key}`;
  select.id = id;
  select.setAttribute('aria-label', `Convert ${file.name} to`);
  if (file.size > uploadLimit) {
    select.disabled = true;
    problem.hidden = false;
    problem.textContent = `This file is too large: ${formatBytes(file.size)}, and the limit is ${formatBytes(uploadLimit)}.`;
    els.error.textContent = `${file.name}: ${problem.textContent}`;
  } else if (!formatsLoaded) {
    select.disabled = true;
    problem.hidden = false;
    problem.textContent = 'The list of formats could not be loaded: reload the page to try again.';
  } else if (!source || source.to.length === 0) {
    select.disabled = true;
    problem.hidden = false;
    problem.textContent = `Doc Flow cannot convert this type of file. Supported: ${acceptedExtensions().join(', ')}.`;
  } else {
    for (const t of source.to) select.append(new Option(formatName(t), t));
    select.value = source.to.includes(PREFERRED[source.id]) ? PREFERRED[source.id] : source.to[0];
  }
  const showOptions = () => {
    li.querySelector('.opt-delimiter').hidden = source?.id !== 'csv';
    li.querySelector('.opt-sheet').hidden = source?.id !== 'xlsx';
    // A workbook becomes one table; as a document, every sheet is a titled table.
    li.querySelector('.sheet').placeholder = ['md', 'html', 'txt', 'pdf'].includes(select.value) ? 'all' : 'first';
    li.querySelector('.opt-notes').hidden = source?.id !== 'pptx';
    li.querySelector('.opt-page').hidden = select.value !== 'pdf';
  };
  select.addEventListener('change', showOptions);
  showOptions();
  li.querySelector('.remove').setAttribute('aria-label', `Remove ${file.name}`);
  li.querySelector('.remove').addEventListener('click', () => {
    staged.delete(key);
    li.remove();
    updateButtons();
    els.file.focus();
  });
  staged.set(key, { file, li, source });
  els.staged.append(li);
  updateButtons();
}

function optionsFor(entry) {
  const { li, source } = entry;
  const options = {};
  const delimiter = li.querySelector('.delimiter').value;
  if (source?.id === 'csv' && delimiter) options.delimiter = delimiter;
  const sheet = li.querySelector('.sheet').value.trim();
  if (source?.id === 'xlsx' && sheet) options.sheet = /^\d+$/.test(sheet) ? Number(sheet) : sheet;
  if (source?.id === 'pptx' && li.querySelector('.notes').checked) options.notes = true;
  if (li.querySelector('.target').value === 'pdf') options.page_size = li.querySelector('.page-size').value;
  return options;
}

function updateButtons() {
  const ready = [...staged.values()].some((e) => !e.li.querySelector('.target').disabled);
  els.convert.disabled = !ready;
  els.clear.disabled = staged.size === 0;
}

function acceptedExtensions() {
  return [...new Set(formats.filter((f) => f.readable && f.to.length).flatMap((f) => f.extensions))].map((e) => `.${e}`);
}

async function convertAll() {
  els.error.textContent = '';
  els.convert.disabled = true;
  const entries = [...staged.entries()].filter(([, e]) => !e.li.querySelector('.target').disabled);
  for (const [key, entry] of entries) {
    const { li, file } = entry;
    const bar = li.querySelector('.upload-progress');
    const problem = li.querySelector('.problem');
    bar.hidden = false;
    bar.setAttribute('aria-label', `Uploading ${file.name}`);
    problem.hidden = true;
    li.querySelectorAll('select, input, button').forEach((c) => { c.disabled = true; });
    try {
      const job = await upload(file, li.querySelector('.target').value, optionsFor(entry), (p) => { bar.value = p; });
      staged.delete(key);
      li.remove();
      // The answer is the job's first state: an event that arrived before it (a fast conversion)
      // is newer and stays.
      if (!jobs.has(job.id)) upsert(job);
      announce(`${file.name} uploaded; converting to ${formatName(job.output_format)}.`);
      haveClient = true;
      ensureSocketHasClient();
    } catch (e) {
      bar.hidden = true;
      problem.hidden = false;
      problem.textContent = e instanceof ApiError ? e.message : String(e);
      li.querySelectorAll('select, input, button').forEach((c) => { c.disabled = false; });
      els.error.textContent = `${file.name}: ${problem.textContent}`;
    }
  }
  updateButtons();
  refreshUsage();
}

// ---- the job list --------------------------------------------------------------------------

function timeAgo(iso) {
  if (!iso) return '';
  const s = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
  if (s < 60) return 'just now';
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  return `${Math.floor(s / 3600)} h ago`;
}

// Every change seen from an event or an upload is numbered, so a resync whose answer was read
// before that change (its request crossed the event) does not put the older state back.
let changes = 0;

function upsert(update, syncedAt = null) {
  const known = jobs.get(update.id);
  // A listing read before an event keeps the event's state, but still fills in what the event
  // did not carry (a progress event has no file name: a job first seen through one would stay
  // "undefined" until its next event otherwise).
  const stale = syncedAt !== null && known && known.seenAt > syncedAt;
  const job = stale
    ? { ...update, ...known }
    : { ...(known ?? {}), ...update, seenAt: syncedAt === null ? ++changes : (known?.seenAt ?? 0) };
  jobs.set(job.id, job);
  let li = els.jobs.querySelector(`[data-id="${CSS.escape(job.id)}"]`);
  if (!li) {
    li = $('job-item').content.firstElementChild.cloneNode(true);
    li.dataset.id = job.id;
    li.querySelector('.delete').addEventListener('click', () => removeJob(job.id));
    li.querySelector('.retry').addEventListener('click', () => retryJob(job.id));
    li.querySelector('.cancel').addEventListener('click', () => cancelJob(job.id));
    const history = li.querySelector('.history');
    history.addEventListener('toggle', () => { if (history.open) showHistory(job.id, history); });
    els.jobs.prepend(li);
  }
  const previous = li.dataset.status;
  li.dataset.status = job.status;
  const target = formatName(job.output_format);
  li.querySelector('.name').textContent = `${job.input_filename ?? 'file'} → ${target}`;
  const badge = li.querySelector('.badge');
  badge.textContent = STATUS[job.status] ?? job.status;
  badge.className = `badge ${String(job.status).toLowerCase()}`;
  const meta = [formatBytes(job.input_bytes)];
  if (job.status === 'DONE' && job.output_bytes != null) meta.push(`result ${formatBytes(job.output_bytes)}`);
  if (job.status === 'PROCESSING' && job.step) meta.push(job.step);
  meta.push(timeAgo(job.created_at));
  li.querySelector('.meta').textContent = meta.filter(Boolean).join(' · ');
  const bar = li.querySelector('.job-progress');
  bar.hidden = job.status !== 'PROCESSING';
  bar.value = job.progress ?? 0;
  bar.setAttribute('aria-label', `${job.input_filename}: ${job.progress ?? 0}%`);
  const reason = li.querySelector('.reason');
  reason.hidden = job.status !== 'FAILED';
  reason.textContent = job.status === 'FAILED' ? (job.error?.message ?? 'The conversion failed.') : '';
  const download = li.querySelector('.download');
  download.hidden = job.status !== 'DONE';
  if (job.status === 'DONE') {
    download.href = job.download_url ?? `/api/jobs/${job.id}/output`;
    download.setAttribute('aria-label', `Download ${job.input_filename} as ${target}`);
  }
  li.querySelector('.retry').hidden = job.status !== 'FAILED';
  li.querySelector('.retry').setAttribute('aria-label', `Retry ${job.input_filename}`);
  const cancel = li.querySelector('.cancel');
  cancel.hidden = job.status !== 'PENDING' && job.status !== 'PROCESSING';
  cancel.setAttribute('aria-label', `Cancel ${job.input_filename}`);
  li.querySelector('.delete').setAttribute('aria-label', `Delete ${job.input_filename}`);
  showWarnings(li, job);
  const history = li.querySelector('.history');
  if (history.open && previous !== job.status) showHistory(job.id, history);
  if (previous && previous !== job.status && (job.status === 'DONE' || job.status === 'FAILED')) {
    announce(`${job.input_filename}: ${job.status === 'DONE' ? 'ready to download' : `failed — ${reason.textContent}`}`);
    refreshUsage();
  }
  els.empty.hidden = jobs.size > 0;
}

// What the conversion could not carry over: one short warning in full, more (or a long one) as a
// collapsed list; the job's details list them all beside its history.
function showWarnings(li, job) {
  const warnings = Array.isArray(job.warnings) ? job.warnings.map(String) : [];
  const box = li.querySelector('.warnings');
  const one = box.querySelector('.warning-one');
  const many = box.querySelector('.warning-list');
  box.hidden = warnings.length === 0;
  const short = warnings.length === 1 && warnings[0].length <= 140;
  one.hidden = !short;
  many.hidden = short || warnings.length === 0;
  if (short) one.textContent = `Warning: ${warnings[0]}`;
  if (!many.hidden) {
    many.querySelector('summary').textContent = `${warnings.length} ${warnings.length === 1 ? 'warning' : 'warnings'}: what was not carried over`;
    many.querySelector('ul').replaceChildren(...warnings.map((w) => Object.assign(document.createElement('li'), { textContent: w })));
  }
  const detail = li.querySelector('.detail-warnings');
  detail.hidden = warnings.length === 0;
  detail.querySelector('ul').replaceChildren(...warnings.map((w) => Object.assign(document.createElement('li'), { textContent: w })));
}

// What one history event says, in words (GET /api/jobs/{id}/events).
function describeEvent(e) {
  const secs = (s) => (s < 1 ? `${Math.round(s * 1000)} ms` : `${s.toFixed(1)} s`);
  switch (e.kind) {
    case 'queued': return `queued (${formatBytes(e.input_bytes)}, priority ${e.priority})`;
    case 'claimed': return `started on ${e.runner} after waiting ${secs(e.wait_seconds ?? 0)}`;
    case 'progress': return `${e.progress}% — ${e.step ?? ''}`;
    case 'released': return 'given back to the queue unstarted';
    case 'retried': return `attempt failed after ${secs(e.seconds ?? 0)}, will be retried: ${e.message}`;
    case 'rescued': return `its runner was lost; will be retried`;
    case 'done': return `done in ${secs(e.seconds ?? 0)}, result ${formatBytes(e.output_bytes)}${e.warnings ? `, ${e.warnings} warning(s)` : ''}`;
    case 'failed': return `failed: ${e.message}`;
    case 'requeued': return 'retried by you';
    case 'canceled': return 'canceled by you';
    case 'deleted': return 'deleted';
    default: return e.kind;
  }
}

async function showHistory(id, details) {
  const list = details.querySelector('.events');
  try {
    const { events } = await api.events(id);
    list.replaceChildren(...events.map((e) => {
      const item = document.createElement('li');
      const time = document.createElement('time');
      time.dateTime = e.at;
      time.textContent = new Date(e.at).toLocaleTimeString();
      item.append(time, ` · attempt ${e.attempt} · ${describeEvent(e)}`);
      item.dataset.kind = e.kind;
      return item;
    }));
  } catch (e) {
    const item = document.createElement('li');
    item.textContent = `The history cannot be read now: ${e.message}`;
    list.replaceChildren(item);
  }
}

function drop(id) {
  jobs.delete(id);
  els.jobs.querySelector(`[data-id="${CSS.escape(id)}"]`)?.remove();
  els.empty.hidden = jobs.size > 0;
}

async function removeJob(id) {
  const name = jobs.get(id)?.input_filename ?? 'job';
  try {
    await api.remove(id);
    drop(id);
    announce(`${name} deleted.`);
    $('jobs-heading').focus();
    refreshUsage();
  } catch (e) {
    els.error.textContent = e.message;
  }
}

async function retryJob(id) {
  const name = jobs.get(id)?.input_filename ?? 'job';
  const li = els.jobs.querySelector(`[data-id="${CSS.escape(id)}"]`);
  try {
    upsert(await api.retry(id));
    announce(`${name}: queued again.`);
    // The Retry button hides with the new state: focus stays on the job, not the page's body.
    li?.querySelector('.name')?.focus();
  } catch (e) {
    els.error.textContent = `${name}: ${e.message}`;
  }
}

let resyncing = false;

// Re-reads the job list (after a reconnect, and every few seconds while the socket is down); a
// busy or unreachable service is waited out.
async function cancelJob(id) {
  const name = jobs.get(id)?.input_filename ?? 'job';
  const li = els.jobs.querySelector(`[data-id="${CSS.escape(id)}"]`);
  try {
    upsert(await api.cancel(id));
    announce(`${name}: canceled.`);
    li?.querySelector('.name')?.focus();
    refreshUsage();
  } catch (e) {
    els.error.textContent = `${name}: ${e.message}`;
  }
}

async function resync() {
  if (resyncing) return;
  resyncing = true;
  try {
    await patiently('your jobs', async () => {
      const seen = new Set();
      const startedAt = changes;
      let cursor = null;
      const pages = [];
      do {
        const page = await api.jobs(cursor);
        pages.push(page);
        cursor = page.next_cursor;
      } while (cursor);
      for (const page of pages) for (const job of page.jobs.slice().reverse()) { upsert(job, startedAt); seen.add(job.id); }
      // Gone from the server, unless an event or an upload told of it after the listing began.
      for (const [id, job] of [...jobs]) if (!seen.has(id) && !(job.seenAt > startedAt)) drop(id);
    });
  } catch (e) {
    els.error.textContent = e.message;
  } finally {
    resyncing = false;
  }
}

// The live region reads one message at a time: messages that come together are queued a second
// apart, so a screen reader is not cut off by the next one.
const announcements = [];
let announcing = false;

function announce(text) {
  announcements.push(text);
  if (announcing) return;
  announcing = true;
  const next = () => {
    const message = announcements.shift();
    if (message === undefined) {
      announcing = false;
      return;
    }
    els.live.textContent = message;
    setTimeout(next, 1000);
  };
  next();
}

// ---- quota and expiry ----------------------------------------------------------------------

// When the client's files go: "at 14:32 tomorrow".
function deletionTime(iso) {
  const at = new Date(iso);
  const now = new Date();
  const time = at.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  const tomorrow = new Date(now.getFullYear(), now.getMonth(), now.getDate() + 1);
  if (at.toDateString() === now.toDateString()) return `at ${time} today`;
  if (at.toDateString() === tomorrow.toDateString()) return `at ${time} tomorrow`;
  return `at ${time} on ${at.toLocaleDateString()}`;
}

// Resolves to whether this browser has a client yet (its cookie names a live client). Patient:
// waits out a busy service (the page's first load).
async function refreshUsage(patient = false) {
  try {
    const u = patient ? await patiently('your storage use', () => api.usage()) : await api.usage();
    uploadLimit = u.bytes_limit;
    els.quotaMeter.max = u.bytes_limit;
    els.quotaMeter.value = u.bytes_used;
    els.quotaMeter.high = u.bytes_limit * 0.9;
    els.quotaText.textContent = `${formatBytes(u.bytes_used)} of ${formatBytes(u.bytes_limit)} used`;
    if (u.expires_at) {
      // Every file goes with the client, 24 h after its first upload: a later file lives less.
      els.expiry.textContent = `· your files are deleted ${deletionTime(u.expires_at)}, 24 h after your first upload`;
      els.expiry.title = new Date(u.expires_at).toLocaleString();
      haveClient = true;
    } else {
      els.expiry.textContent = '';
    }
    return Boolean(u.expires_at);
  } catch {
    // The quota line is informative; errors show where the user acted.
    return false;
  }
}

// ---- the WebSocket -------------------------------------------------------------------------

let socket = null;
let socketHasClient = false;
let retryDelay = 500;

function connect() {
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  socket = new WebSocket(`${proto}//${location.host}/ws`);
  socket.onopen = () => { retryDelay = 500; };
  socket.onmessage = (ev) => {
    let msg;
    try { msg = JSON.parse(ev.data); } catch { return; }
    if (msg.type === 'connected') {
      socketHasClient = Boolean(msg.client);
      els.connection.textContent = 'Live updates on.';
      resync(); // anything that happened while we were away
      return;
    }
    if (!msg.job) return;
    if (msg.type === 'job_deleted' || msg.type === 'job_expired') drop(msg.job.id);
    else {
      const unknown = !jobs.has(msg.job.id) && msg.job.input_filename === undefined;
      upsert(msg.job);
      if (unknown) fillIn(msg.job.id);
    }
  };
  socket.onclose = () => {
    els.connection.textContent = 'Reconnecting for live updates… (the list is refreshed every 10 s meanwhile)';
    setTimeout(connect, retryDelay);
    retryDelay = Math.min(retryDelay * 2, 10000);
  };
}

// A job first heard of through a progress event (made in another tab, or before the listing
// came back) is read once in full; the event's newer state is kept.
async function fillIn(id) {
  const at = changes;
  try { upsert(await api.job(id), at); } catch { /* the next resync has it */ }
}

// The gateway accepts a socket only from a browser that has a client (its cookie): the first
// upload creates it, and the socket opens then; a socket opened without one is reopened.
function ensureSocketHasClient() {
  if (!socket) connect();
  else if (!socketHasClient) socket.close();
}

// ---- wiring --------------------------------------------------------------------------------

els.file.addEventListener('change', () => {
  stageAll([...els.file.files]);
  els.file.value = '';
});
els.convert.addEventListener('click', convertAll);
els.clear.addEventListener('click', () => {
  staged.clear();
  els.staged.replaceChildren();
  updateButtons();
});
for (const type of ['dragenter', 'dragover']) {
  document.addEventListener(type, (e) => { e.preventDefault(); els.drop.classList.add('over'); });
}
for (const type of ['dragleave', 'drop']) {
  document.addEventListener(type, (e) => { e.preventDefault(); els.drop.classList.remove('over'); });
}
document.addEventListener('drop', (e) => {
  stageAll([...(e.dataTransfer?.files ?? [])]);
});
setInterval(() => { for (const job of jobs.values()) upsert(job, job.seenAt); refreshUsage(); }, 60000);  // re-render times
// While the socket is down, the list is re-read instead (events are hints; the API is the truth).
setInterval(() => {
  if (haveClient && !(socket && socket.readyState === WebSocket.OPEN && socketHasClient)) {
    resync();
    refreshUsage();
  }
}, 10000);

(async () => {
  loadFormats();
  if (await refreshUsage(true)) {
    connect();
    resync(); // the list at once, not only when the socket says it is connected
  } else {
    els.connection.textContent = 'Live updates start with your first upload.';
  }
})();
