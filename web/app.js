// Placeholder UI (the full UI is its own issue): pick a file and a target, watch the job over
// the WebSocket, download the result.
const form = document.getElementById('upload');
const fileInput = document.getElementById('file');
const toSelect = document.getElementById('to');
const statusEl = document.getElementById('status');
const jobsEl = document.getElementById('jobs');
let formats = [];
let socket = null;
let socketHasClient = false; // the gateway says whether our cookie named a client

async function loadFormats() {
  const res = await fetch('/api/formats');
  formats = (await res.json()).formats;
  updateTargets();
}

function updateTargets() {
  const name = fileInput.files[0]?.name ?? '';
  const ext = name.includes('.') ? name.split('.').pop().toLowerCase() : '';
  const source = formats.find((f) => f.extensions.includes(ext));
  const targets = source ? source.to : [...new Set(formats.flatMap((f) => f.to))];
  toSelect.replaceChildren(...targets.map((t) => new Option(t, t)));
}

function connect() {
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  socket = new WebSocket(`${proto}//${location.host}/ws`);
  socket.onmessage = (ev) => {
    const msg = JSON.parse(ev.data);
    if (msg.type === 'connected') socketHasClient = msg.client;
    if (msg.job) render(msg.job);
  };
  socket.onclose = () => setTimeout(connect, 2000);
}

function render(job) {
  let li = document.getElementById(`job-${job.id}`);
  if (!li) {
    li = document.createElement('li');
    li.id = `job-${job.id}`;
    jobsEl.prepend(li);
  }
  const name = job.input_filename ?? li.dataset.name;
  li.dataset.name = name;
  li.textContent = `${name} → ${job.output_format ?? li.dataset.to}: ${job.status.toLowerCase()} `;
  li.dataset.to = job.output_format ?? li.dataset.to;
  statusEl.textContent = `${name}: ${job.status.toLowerCase()}`;
  if (job.status === 'DONE') {
    const a = document.createElement('a');
    a.href = job.download_url;
    a.textContent = 'download';
    li.append(a);
  } else if (job.error) {
    li.append(job.error.message);
  }
}

fileInput.addEventListener('change', updateTargets);
form.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const res = await fetch('/api/jobs', { method: 'POST', body: new FormData(form) });
  const body = await res.json();
  if (!res.ok) {
    statusEl.textContent = body.error.message;
    return;
  }
  statusEl.textContent = 'Queued.';
  render(body);
  // The first upload created our client: reconnect so the gateway puts us in its room.
  if (!socketHasClient) socket?.close();
  const poll = async () => {
    const r = await fetch(`/api/jobs/${body.id}`);
    const job = await r.json();
    render(job);
    if (job.status === 'PENDING' || job.status === 'PROCESSING') setTimeout(poll, 1000);
  };
  setTimeout(poll, 1000);
});

loadFormats();
connect();
