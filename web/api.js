// The HTTP API as the page uses it: JSON in, JSON out, every failure turned into a sentence.

export class ApiError extends Error {
  constructor(status, code, message, retryAfter = null) {
    super(message);
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter; // seconds, from the answer's Retry-After (429, 503)
  }

  // Worth trying again by itself: the service is busy, starting, or out of reach for a moment.
  get transient() {
    return [0, 429, 502, 503, 504].includes(this.status);
  }
}

// Retry-After in seconds (delta-seconds or an HTTP date), or null.
function retryAfter(value) {
  if (!value) return null;
  if (/^\d+$/.test(value.trim())) return Number(value);
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, (at - Date.now()) / 1000);
}

export function formatBytes(n) {
  if (n == null) return '';
  const units = ['B', 'KB', 'MB', 'GB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i += 1; }  // 250 MB = the 250 MiB quota
  return `${i === 0 ? v : v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

// What a person should read for an error response (status + the API's JSON error body).
export function explain(status, body) {
  const err = body?.error ?? {};
  switch (status) {
    case 413:
      if (err.code === 'quota_exceeded' || err.used != null) {
        return `Not enough space left: ${formatBytes(err.used)} of ${formatBytes(err.limit)} used. Delete some jobs and try again.`;
      }
      return 'This file is too large (the limit is 250 MB).';
    case 415: return err.message ?? 'This type of file is not supported.';
    case 429: return 'Too many requests: please wait a moment and try again.';
    case 502: case 503: case 504: return 'The service is unavailable right now. Please try again in a minute.';
    default: return err.message ?? `Something went wrong (HTTP ${status}).`;
  }
}

async function request(method, path, body) {
  let res;
  try {
    res = await fetch(path, { method, body, credentials: 'same-origin' });
  } catch {
    throw new ApiError(0, 'network', 'The service cannot be reached. Check your connection.');
  }
  const text = await res.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { json = null; }
  if (!res.ok) {
    throw new ApiError(res.status, json?.error?.code ?? 'http', explain(res.status, json), retryAfter(res.headers.get('Retry-After')));
  }
  return json;
}

export const api = {
  formats: () => request('GET', '/api/formats'),
  usage: () => request('GET', '/api/usage'),
  job: (id) => request('GET', `/api/jobs/${encodeURIComponent(id)}`),
  jobs: (cursor) => request('GET', `/api/jobs?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`),
  remove: (id) => request('DELETE', `/api/jobs/${encodeURIComponent(id)}`),
  retry: (id) => request('POST', `/api/jobs/${encodeURIComponent(id)}/retry`),
  cancel: (id) => request('POST', `/api/jobs/${encodeURIComponent(id)}/cancel`),
  events: (id) => request('GET', `/api/jobs/${encodeURIComponent(id)}/events`),
};

// XHR (fetch has no upload progress) of `body` to `url`; resolves with the parsed JSON answer
// (null when there is none, as from an S3 POST).
function send(method, url, body, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(method, url);
    xhr.responseType = 'text';
    xhr.upload.onprogress = (e) => { if (e.lengthComputable) onProgress(e.loaded / e.total); };
    xhr.onerror = () => reject(new ApiError(0, 'network', 'The upload failed: the service cannot be reached.'));
    xhr.onload = () => {
      let json = null;
      try { json = xhr.responseText ? JSON.parse(xhr.responseText) : null; } catch { json = null; }
      if (xhr.status >= 200 && xhr.status < 300) resolve(json);
      else reject(new ApiError(xhr.status, json?.error?.code ?? 'http', explain(xhr.status, json), retryAfter(xhr.getResponseHeader('Retry-After'))));
    };
    xhr.send(body);
  });
}

// The multipart upload through the API (the fallback): resolves with the new job.
function multipartUpload(file, to, options, onProgress) {
  const form = new FormData();
  form.append('to', to);
  if (options && Object.keys(options).length) form.append('options', JSON.stringify(options));
  form.append('file', file, file.name);
  return send('POST', '/api/jobs', form, onProgress);
}

// Direct upload: ask for a slot, send the file straight to storage (the slot's url, same origin),
// then ask for the job. Falls back to the multipart upload when the server offers no slots.
export async function upload(file, to, options, onProgress) {
  let slot;
  try {
    slot = await request('POST', '/api/uploads', JSON.stringify({
      filename: file.name, size: file.size, ...(file.type ? { content_type: file.type } : {}),
    }));
  } catch (e) {
    if (e.status === 404 || e.status === 405) return multipartUpload(file, to, options, onProgress);
    throw e;
  }
  let body = file;
  if (slot.method === 'POST') {
    body = new FormData();
    for (const [name, value] of Object.entries(slot.fields)) body.append(name, value);
    body.append(slot.file_field ?? 'file', file, file.name);
  }
  await send(slot.method, slot.url, body, onProgress);
  const job = { to, ...(options && Object.keys(options).length ? { options } : {}) };
  return request('POST', slot.jobs_url, JSON.stringify(job));
}
