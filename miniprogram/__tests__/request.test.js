const config = require('../config');
const { request, upload, absolute } = require('../services/request');
const { installWx, sent } = require('./helpers/wx');

describe('services/request: the one wrapper around wx.request', () => {
  test('signs in with wx.login first, then sends the bearer token to the configured base URL', async () => {
    const wx = installWx({ 'GET /cases/mine': { body: { cases: [], total: 0 } } });
    const body = await request('/cases/mine');
    expect(body.total).toBe(0);
    const [loginCall] = sent(wx, 'POST', '/auth/login');
    expect(loginCall.data).toEqual({ code: 'code-1' });
    const [mine] = sent(wx, 'GET', '/cases/mine');
    expect(mine.url).toBe(`${config.apiBase}/cases/mine`);
    expect(mine.header.Authorization).toBe('Bearer tok-1');
    expect(wx.storage.token).toBe('tok-1');
  });

  test('several requests at once sign in only once', async () => {
    const wx = installWx({ 'GET /me': { body: { account: {} } } });
    await Promise.all([request('/me'), request('/me'), request('/me')]);
    expect(wx.calls.logins).toBe(1);
  });

  test('a 401 (expired token) signs in again once and retries', async () => {
    let first = true;
    const wx = installWx({
      'GET /me': ({ header }) => {
        if (first) { first = false; return { status: 401, body: { error: { code: 'token_expired', message: '登录已过期，请重新登录' } } }; }
        return { body: { account: { role: 'citizen' }, token: header.Authorization } };
      },
    }, { storage: { token: 'old' } });
    const body = await request('/me');
    expect(body.token).toBe('Bearer tok-1');
    expect(wx.calls.logins).toBe(1);
    expect(wx.calls.toasts).toEqual([]);
  });

  test('a second 401 gives up with the server\'s Chinese message', async () => {
    const wx = installWx({ 'GET /me': { status: 401, body: { error: { code: 'token_invalid', message: '登录信息无效，请重新登录' } } } });
    await expect(request('/me')).rejects.toMatchObject({ status: 401, code: 'token_invalid' });
    expect(wx.calls.logins).toBe(2);
    expect(wx.calls.toasts).toEqual(['登录信息无效，请重新登录']);
  });

  test('errors show the server\'s Chinese message as a toast (or nothing when quiet)', async () => {
    const wx = installWx({ 'POST /cases': { status: 429, body: { error: { code: 'rate_limited', message: '您提交得太频繁了，请稍后再试' } } } }, { storage: { token: 't' } });
    await expect(request('/cases', { method: 'POST', data: {} })).rejects.toMatchObject({ code: 'rate_limited' });
    expect(wx.calls.toasts).toEqual(['您提交得太频繁了，请稍后再试']);
    await expect(request('/cases', { method: 'POST', data: {}, quiet: true })).rejects.toBeTruthy();
    expect(wx.calls.toasts).toHaveLength(1);
  });

  test('no network → a Chinese toast; a broken server answer → a generic Chinese message', async () => {
    const wx = installWx({ 'GET /categories': 'network', 'GET /deputies/X': { status: 500, body: 'oops' } });
    await expect(request('/categories', { auth: false })).rejects.toMatchObject({ code: 'network_error' });
    await expect(request('/deputies/X', { auth: false })).rejects.toMatchObject({ status: 500 });
    expect(wx.calls.toasts).toEqual(['网络不给力，请检查网络后重试', '服务器开小差了，请稍后再试']);
    expect(wx.calls.logins).toBe(0); // public calls need no sign-in
  });

  test('uploads go through wx.uploadFile with the token and parse the JSON answer', async () => {
    const wx = installWx({ 'POST /uploads': { status: 201, body: { id: 'abc', url: '/uploads/abc' } } }, { storage: { token: 't' } });
    const body = await upload('/uploads', 'wxfile://tmp/1.jpg');
    expect(body.id).toBe('abc');
    expect(wx.calls.uploads[0]).toMatchObject({ name: 'file', filePath: 'wxfile://tmp/1.jpg', header: { Authorization: 'Bearer t' } });
    expect(absolute(body.url)).toBe(`${config.publicBase}/uploads/abc`);
  });
});
