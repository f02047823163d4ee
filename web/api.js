// The HTTP API as the page uses it: JSON in, JSON out, every failure turned into a sentence.

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
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
  if (!res.ok) throw new ApiError(res.status, json?.error?.code ?? 'http', explain(res.status, json));
  return json;
}

export const api = {
  formats: () => request('GET', '/api/formats'),
  usage: () => request('GET', '/api/usage'),
  jobs: (cursor) => request('GET', `/api/jobs?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`),
  remove: (id) => request('DELETE', `/api/jobs/${encodeURIComponent(id)}`),
  retry: (id) => request('POST', `/api/jobs/${encodeURIComponent(id)}/retry`),
};

// Multipart upload with progress (fetch has no upload progress): resolves with the new job.
export function upload(file, to, options, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    const form = new FormData();
    form.append('to', to);
    if (options && Object.keys(options).length) form.append('options', JSON.stringify(options));
    form.append('file', file, file.name);
    xhr.open('POST', '/api/jobs');
    xhr.responseType = 'text';
    xhr.upload.onprogress = (e) => { if (e.lengthComputable) onProgress(e.loaded / e.total); };
    xhr.onerror = () => reject(new ApiError(0, 'network', 'The upload failed: the service cannot be reached.'));
    xhr.onload = () => {
      let json = null;
      try { json = JSON.parse(xhr.responseText); } catch { json = null; }
      if (xhr.status === 201 || xhr.status === 200) resolve(json);
      else reject(new ApiError(xhr.status, json?.error?.code ?? 'http', explain(xhr.status, json)));
    };
    xhr.send(form);
  });
}
