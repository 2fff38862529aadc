// The one wrapper around wx.request / wx.uploadFile: base URL from config, sign-in through wx.login,
// one silent re-login on 401, and Chinese error toasts. Pages call services/api.js, never wx.request.
const config = require('../config');

const TOKEN = 'token';
const ACCOUNT = 'account';
let signingIn = null;

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

const NETWORK_MESSAGE = '网络不给力，请检查网络后重试';

function toast(message) {
  wx.showToast({ title: message, icon: 'none', duration: 2500 });
}

function absolute(url) {
  if (!url || /^https?:\/\//.test(url)) return url;
  return config.publicBase + url;
}

function send(path, method, data, token) {
  return new Promise((resolve, reject) => {
    wx.request({
      url: config.apiBase + path,
      method,
      data,
      header: token ? { Authorization: `Bearer ${token}` } : {},
      success: (res) => resolve(res),
      fail: () => reject(new ApiError(0, 'network_error', NETWORK_MESSAGE)),
    });
  });
}

function sendFile(path, filePath, token) {
  return new Promise((resolve, reject) => {
    wx.uploadFile({
      url: config.apiBase + path,
      filePath,
      name: 'file',
      header: token ? { Authorization: `Bearer ${token}` } : {},
      success: (res) => {
        let body = res.data;
        try { body = typeof body === 'string' ? JSON.parse(body) : body; } catch (e) { body = {}; }
        resolve({ statusCode: res.statusCode, data: body });
      },
      fail: () => reject(new ApiError(0, 'network_error', NETWORK_MESSAGE)),
    });
  });
}

function wxLogin() {
  return new Promise((resolve, reject) => {
    wx.login({
      success: (res) => resolve(res.code),
      fail: () => reject(new ApiError(0, 'login_failed', '微信登录失败，请稍后重试')),
    });
  });
}

function failure(res) {
  const error = (res.data && res.data.error) || {};
  return new ApiError(res.statusCode, error.code || 'server_error', error.message || '服务器开小差了，请稍后再试');
}

// Sign in once even when several requests need it at the same moment.
function login() {
  if (!signingIn) {
    signingIn = wxLogin()
      .then((code) => send('/auth/login', 'POST', { code }))
      .then((res) => {
        if (res.statusCode !== 200) throw failure(res);
        wx.setStorageSync(TOKEN, res.data.token);
        wx.setStorageSync(ACCOUNT, res.data.account);
        return res.data.account;
      })
      .finally(() => { signingIn = null; });
  }
  return signingIn;
}

// After binding, the server signs this phone in as the bound person: keep their token and account.
function signedInAs(body) {
  wx.setStorageSync(TOKEN, body.token);
  wx.setStorageSync(ACCOUNT, body.account);
}

function currentAccount() {
  return wx.getStorageSync(ACCOUNT) || null;
}

async function withLogin(call, auth) {
  let token = auth ? wx.getStorageSync(TOKEN) : '';
  if (auth && !token) {
    await login();
    token = wx.getStorageSync(TOKEN);
  }
  let res = await call(token);
  if (res.statusCode === 401 && auth) { // expired or revoked: sign in again, once
    wx.removeStorageSync(TOKEN);
    await login();
    res = await call(wx.getStorageSync(TOKEN));
  }
  if (res.statusCode >= 400) throw failure(res);
  return res.data;
}

// request('/cases/mine') → the JSON body; on failure shows a Chinese toast (unless quiet) and rejects with ApiError.
async function request(path, { method = 'GET', data, auth = true, quiet = false } = {}) {
  try {
    return await withLogin((token) => send(path, method, data, token), auth);
  } catch (err) {
    if (!quiet) toast(err.message || NETWORK_MESSAGE);
    throw err;
  }
}

async function upload(path, filePath, { quiet = false } = {}) {
  try {
    return await withLogin((token) => sendFile(path, filePath, token), true);
  } catch (err) {
    if (!quiet) toast(err.message || NETWORK_MESSAGE);
    throw err;
  }
}

module.exports = { request, upload, login, signedInAs, currentAccount, absolute, ApiError, toast };
