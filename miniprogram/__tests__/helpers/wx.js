// A simulated `wx`: requests are answered from a route table, and everything the app asks of WeChat
// (toasts, navigation, modals, subscribe consent, storage, login) is recorded for assertions.
const config = require('../../config');

function installWx(routes = {}, options = {}) {
  const calls = {
    requests: [], uploads: [], toasts: [], navigations: [], modals: [], subscribes: [], logins: 0,
  };
  const storage = { ...(options.storage || {}) };
  let tokens = 0;
  const table = {
    'POST /auth/login': () => {
      tokens += 1;
      return { body: { token: `tok-${tokens}`, expires_in: 604800, account: options.account || { role: 'citizen', display_name: '' } } };
    },
    ...routes,
  };
  const answer = (method, url, data, header) => {
    const path = url.slice(config.apiBase.length);
    const handler = table[`${method} ${path}`] || table[`${method} ${path.split('?')[0]}`];
    if (!handler) return { status: 404, body: { error: { code: 'not_found', message: '页面不存在' } } };
    return typeof handler === 'function' ? handler({ path, data, header }) : handler;
  };
  const nav = (kind) => ({ url }) => calls.navigations.push({ kind, url });
  global.wx = {
    calls,
    storage,
    modalConfirm: true,
    subscribeResult: 'accept',
    login({ success }) { calls.logins += 1; success({ code: `code-${calls.logins}` }); },
    request({ url, method = 'GET', data, header, success, fail }) {
      calls.requests.push({ url, method, data, header });
      const result = answer(method, url, data, header);
      if (result === 'network') { fail({ errMsg: 'request:fail' }); return; }
      success({ statusCode: result.status || 200, data: result.body });
    },
    uploadFile({ url, filePath, name, header, success, fail }) {
      calls.uploads.push({ url, filePath, name, header });
      const result = answer('POST', url, { filePath }, header);
      if (result === 'network') { fail({ errMsg: 'uploadFile:fail' }); return; }
      success({ statusCode: result.status || 201, data: JSON.stringify(result.body) });
    },
    getStorageSync: (key) => (key in storage ? storage[key] : ''),
    setStorageSync: (key, value) => { storage[key] = value; },
    removeStorageSync: (key) => { delete storage[key]; },
    showToast: (opts) => calls.toasts.push(opts.title),
    showModal(opts) {
      calls.modals.push(opts.content);
      opts.success({ confirm: global.wx.modalConfirm, cancel: !global.wx.modalConfirm });
    },
    requestSubscribeMessage({ tmplIds, success }) {
      calls.subscribes.push(tmplIds);
      const res = { errMsg: 'requestSubscribeMessage:ok' };
      tmplIds.forEach((id) => { res[id] = global.wx.subscribeResult; });
      success(res);
    },
    navigateTo: nav('navigateTo'),
    redirectTo: nav('redirectTo'),
    setNavigationBarTitle: () => {},
    previewImage: () => {},
    scanCode: ({ success }) => success({ result: global.wx.scanResult }),
    chooseMedia: ({ success }) => success({ tempFiles: (global.wx.pickedFiles || []).map((p) => ({ tempFilePath: p })) }),
    chooseLocation: ({ success }) => success(global.wx.pickedLocation),
  };
  return global.wx;
}

// Requests made to a path (method + path without the base URL).
function sent(wx, method, path) {
  return wx.calls.requests.filter((r) => r.method === method && r.url === config.apiBase + path);
}

const flush = () => new Promise((resolve) => setTimeout(resolve, 0));

module.exports = { installWx, sent, flush };
