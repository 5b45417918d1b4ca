// The dashboard's actions: a form marked `data-api` is sent to the admin JSON API as JSON, with
// the session's CSRF token (from <meta name="csrf-token">) and, for a step-up action, the TOTP
// code of its `step_up` field in X-TOTP-Code. Where money moves the form carries
// `data-confirm`, asked first. Afterwards the region named by `data-region` is reloaded (htmx),
// or the page goes to `data-then`. Lists and filters need none of this: they are plain GET
// forms and links that htmx only speeds up.
(function () {
  'use strict';

  // What an API refusal means for the operator, by its problem code.
  const MESSAGES = {
    unauthorized: '세션이 만료되었습니다. 다시 로그인하세요.',
    forbidden: '권한이 없습니다.',
    step_up_required: '인증 코드(OTP)가 없거나 올바르지 않습니다. 인증 앱의 새 코드를 입력하세요.',
    invalid_request: '입력값을 확인하세요.',
    not_found: '대상을 찾을 수 없습니다.',
    conflict: '지금 상태에서는 할 수 없는 작업입니다.',
    locked: '계정이 잠겼습니다.',
    unavailable: '일시적으로 처리할 수 없습니다. 잠시 후 다시 시도하세요.',
  };

  function csrfToken() {
    const meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute('content') : '';
  }

  function setPath(target, dotted, value) {
    const keys = dotted.split('.');
    let at = target;
    for (const key of keys.slice(0, -1)) {
      if (typeof at[key] !== 'object' || at[key] === null) at[key] = {};
      at = at[key];
    }
    at[keys[keys.length - 1]] = value;
  }

  function getPath(source, dotted) {
    return dotted.split('.').reduce((at, key) => (at == null ? undefined : at[key]), source);
  }

  // The JSON body of a form: every named field but `step_up`; empty text fields are left out.
  function bodyOf(form) {
    const body = {};
    for (const field of form.elements) {
      if (!field.name || field.name === 'step_up' || field.disabled) continue;
      const kind = field.dataset.json;
      let value;
      if (field.type === 'checkbox') {
        value = field.checked;
      } else if (kind === 'lines') {
        value = field.value.split(/[\s,]+/).map((s) => s.trim()).filter((s) => s.length > 0);
      } else if (field.value.trim() === '') {
        continue;
      } else if (kind === 'number') {
        value = Number(field.value);
      } else {
        value = field.value;
      }
      setPath(body, field.name, value);
    }
    return body;
  }

  function show(box, kind, text) {
    if (!box) return;
    box.className = `flash ${kind}`;
    box.textContent = text;
  }

  function refusalText(problem) {
    const base = MESSAGES[problem.code] || '요청을 처리하지 못했습니다.';
    const fields = (problem.errors || []).map((e) => `${e.field}: ${e.message}`).join(', ');
    const detail = fields || problem.detail || '';
    return detail ? `${base} (${detail})` : base;
  }

  async function send(form) {
    const notice = document.getElementById('notice');
    const box = form.querySelector('.flash') || notice;
    if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) return;
    const headers = { 'X-CSRF-Token': csrfToken() };
    const method = (form.dataset.method || 'POST').toUpperCase();
    const stepUp = form.elements.namedItem('step_up');
    // An empty code is no code: the API asks for one without counting a failed attempt.
    if (stepUp && stepUp.value.trim() !== '') headers['X-TOTP-Code'] = stepUp.value.trim();
    const init = { method, headers, credentials: 'same-origin' };
    if (method !== 'GET' && method !== 'DELETE') {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(bodyOf(form));
    }
    const buttons = form.querySelectorAll('button');
    buttons.forEach((b) => { b.disabled = true; });
    let response;
    try {
      response = await fetch(form.dataset.api, init);
    } catch (error) {
      show(box, 'error', `서버에 연결하지 못했습니다. (${error.message})`);
      buttons.forEach((b) => { b.disabled = false; });
      return;
    }
    buttons.forEach((b) => { b.disabled = false; });
    const text = await response.text();
    let answer = {};
    try {
      answer = text ? JSON.parse(text) : {};
    } catch {
      answer = {};
    }
    if (!response.ok) {
      if (response.status === 401 && form.dataset.api !== '/admin/v1/session') {
        window.location.assign(`/admin/login?next=${encodeURIComponent(window.location.pathname + window.location.search)}`);
        return;
      }
      show(box, 'error', refusalText(answer));
      return;
    }
    if (stepUp) stepUp.value = '';
    let shown = false;
    for (const out of form.querySelectorAll('output[data-show]')) {
      const value = getPath(answer, out.dataset.show);
      if (value === undefined || value === null) continue;
      const prefix = out.dataset.prefix ? new URL(out.dataset.prefix, window.location.href).href : '';
      out.textContent = `${prefix}${value}`;
      shown = true;
    }
    if (form.dataset.then) {
      window.location.assign(form.dataset.then);
      return;
    }
    const region = form.dataset.region;
    if (region && document.querySelector(region) && window.htmx) {
      // The message shows once the region shows the change.
      await window.htmx.ajax('GET', window.location.href, { target: region, select: region, swap: 'outerHTML' });
    } else if (!shown) {
      window.location.reload();
      return;
    }
    if (form.dataset.done) show(notice, 'ok', form.dataset.done);
  }

  document.addEventListener('submit', (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.dataset.api) return;
    event.preventDefault();
    send(form);
  });
})();
