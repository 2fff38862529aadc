const { render, text } = require('./helpers/simulate');
const { installWx, sent, flush } = require('./helpers/wx');

const tap = async (page, selector) => { page.querySelector(selector).dispatchEvent('tap'); await flush(); };
const DEPUTY = { role: 'deputy', display_name: '周建华', deputy: { code: 'DB0001', name: '周建华' } };

describe('bind page', () => {
  test('a link token binds on confirm; the phone then works as the deputy', async () => {
    const wx = installWx({
      'POST /bind': { body: { token: 'tok-deputy', account: DEPUTY, bound: true, message: '您已绑定为 周建华 代表' } },
    });
    const page = render('pages/bind/index');
    page.instance.onLoad({ t: 'Tk123' });
    await flush();
    expect(text(page)).toContain('已从绑定链接读取绑定信息');
    await tap(page, '.bind');
    expect(sent(wx, 'POST', '/bind')[0].data).toEqual({ token: 'Tk123' });
    expect(text(page)).toContain('您已绑定为 周建华 代表');
    expect(wx.storage.token).toBe('tok-deputy');
    expect(wx.storage.account.role).toBe('deputy');
    await tap(page, '.workbench');
    expect(wx.calls.navigations).toEqual([{ kind: 'redirectTo', url: '/pages/workbench/index' }]);
  });

  test('a typed code is checked for length and refusals are shown in Chinese', async () => {
    const wx = installWx({
      'POST /bind': { status: 409, body: { error: { code: 'bind_code_used', message: '这个绑定码已经使用过' } } },
    });
    const page = render('pages/bind/index');
    page.instance.onLoad({});
    page.instance.onCode({ detail: { value: 'abcd' } });
    await page.instance.onBind();
    expect(text(page)).toContain('请输入8位绑定码');
    expect(sent(wx, 'POST', '/bind')).toHaveLength(0);
    page.instance.onCode({ detail: { value: 'abcd-2345' } });
    await page.instance.onBind();
    expect(sent(wx, 'POST', '/bind')[0].data).toEqual({ code: 'ABCD2345' });
    await flush();
    expect(text(page)).toContain('这个绑定码已经使用过');
    expect(wx.storage.account.role).toBe('citizen');  // still who wx.login made them
  });
});
