const fs = require('fs');
const path = require('path');
const { render, text } = require('./helpers/simulate');
const { installWx, sent, flush } = require('./helpers/wx');

const { ROOT, tap, DEPUTY, CATEGORIES, caseBody } = require('./helpers/fixtures');

describe('home', () => {
  test('a plain-link QR or a mini-program code opening the home page lands on the right page', () => {
    const wx = installWx();
    render('pages/index/index').instance.onLoad({ q: encodeURIComponent('https://daibiao.example.cn/d/DB0001') });
    render('pages/index/index').instance.onLoad({ scene: encodeURIComponent('p=XM002') });
    expect(wx.calls.navigations).toEqual([
      { kind: 'redirectTo', url: '/pages/deputy/index?code=DB0001' },
      { kind: 'redirectTo', url: '/pages/project/detail?code=XM002' }]);
  });

  test('find a deputy by name, open them; scan; deputies get the workbench button', async () => {
    const wx = installWx({ 'GET /deputies': { body: { deputies: [DEPUTY], total: 1 } } },
      { account: { role: 'deputy', display_name: '周建华' } });
    const home = render('pages/index/index');
    home.instance.onLoad({});
    await flush();
    expect(home.querySelector('.workbench')).toBeTruthy();
    home.instance.onInput({ detail: { value: '周' } });
    await tap(home, '.search');
    expect(sent(wx, 'GET', '/deputies?q=%E5%91%A8')).toHaveLength(1);
    expect(text(home)).toContain('周建华');
    await tap(home, '.deputy');
    wx.scanResult = 'https://daibiao.example.cn/s/ZCG';
    await tap(home, '.scan');
    wx.scanResult = 'not ours';
    await tap(home, '.scan');
    expect(wx.calls.navigations).toEqual([
      { kind: 'navigateTo', url: '/pages/deputy/index?code=DB0001' },
      { kind: 'navigateTo', url: '/pages/station/index?code=ZCG' }]);
    expect(wx.calls.toasts).toEqual(['未识别的二维码，请扫描代表码、项目牌或联络站码']);
  });

  test('a citizen sees no workbench button', async () => {
    installWx();
    const home = render('pages/index/index');
    home.instance.onLoad({});
    await flush();
    expect(home.querySelector('.workbench')).toBeFalsy();
  });
});

describe('deputy profile', () => {
  test('opened from a mini-program code, shows the deputy and leads to the report form', async () => {
    const wx = installWx({ 'GET /deputies/DB0001': { body: { deputy: DEPUTY } } });
    const page = render('pages/deputy/index');
    page.instance.onLoad({ scene: 'd%3DDB0001' });
    await flush();
    expect(text(page)).toContain('周建华');
    expect(text(page)).toContain('县人大代表');
    expect(text(page)).toContain('老旧小区改造');
    await tap(page, '.report');
    expect(wx.calls.navigations).toEqual([{ kind: 'navigateTo', url: '/pages/report/index?deputy=DB0001' }]);
  });

  test('a deputy whose term ended sends people to the station instead', async () => {
    installWx({ 'GET /deputies/DB0030': { body: { deputy: { ...DEPUTY, code: 'DB0030', term_ended: true } } } });
    const page = render('pages/deputy/index');
    page.instance.onLoad({ code: 'DB0030' });
    await flush();
    expect(page.querySelector('.report')).toBeFalsy();
    expect(text(page)).toContain('任期已满');
  });

  test('an unknown code shows the server\'s Chinese message', async () => {
    installWx({ 'GET /deputies/NOPE': { status: 404, body: { error: { code: 'deputy_not_found', message: '未找到这位代表，请核对代表码' } } } });
    const page = render('pages/deputy/index');
    page.instance.onLoad({ code: 'nope' });
    await flush();
    expect(text(page)).toContain('未找到这位代表');
  });
});

describe('report form', () => {
  const routes = (created) => ({
    'GET /deputies/DB0001': { body: { deputy: DEPUTY } },
    'GET /projects/XM001': { body: { project: { code: 'XM001', name: '老旧小区改造' } } },
    'GET /categories': { body: CATEGORIES },
    'POST /uploads': ({ data }) => ({ status: 201, body: { id: `up-${data.filePath.slice(-5)}`, url: '/uploads/x' } }),
    'POST /cases': created,
    'GET /subscriptions': { body: { templates: { case_progress: 'tpl-progress' }, quotas: {} } },
    'POST /subscriptions': ({ data }) => ({ body: { quotas: { case_progress: 1 }, ignored: [], got: data } }),
  });

  test('photos, location, category and text are filed; consent is asked after; the case opens', async () => {
    const wx = installWx(routes({ status: 201, body: { case: caseBody({ state: 'submitted' }), created: true } }));
    const page = render('pages/report/index');
    page.instance.onLoad({ deputy: 'DB0001' });
    await flush();
    expect(text(page)).toContain('周建华');
    await tap(page, '.submit');
    expect(wx.calls.toasts).toEqual(['请选择问题类别']);
    page.instance.onCategory({ detail: { value: '0' } });
    page.instance.onContent({ detail: { value: '  小学门口车速很快，建议设减速带。 ' } });
    wx.pickedFiles = ['wxfile://a.jpg', 'wxfile://b.jpg'];
    await tap(page, '.pick');
    await flush();
    wx.pickedLocation = { name: '城关小学', address: '人民路', latitude: 28.1, longitude: 112.9 };
    await tap(page, '.locate');
    page.instance.onAnonymous({ detail: { value: true } });
    await page.instance.onSubmit();
    const [filed] = sent(wx, 'POST', '/cases');
    expect(filed.data).toMatchObject({
      deputy: 'DB0001', category: 'traffic', content: '小学门口车速很快，建议设减速带。', photos: ['up-a.jpg', 'up-b.jpg'],
      location: '城关小学', latitude: 28.1, anonymous: true,
    });
    expect(filed.data.client_request_id).toMatch(/^mp-/);
    expect(wx.calls.modals[0]).toContain('2026-000007');
    expect(wx.calls.subscribes).toEqual([['tpl-progress']]);
    expect(sent(wx, 'POST', '/subscriptions')[0].data).toEqual({ results: { 'tpl-progress': 'accept' } });
    expect(wx.calls.navigations).toEqual([{ kind: 'redirectTo', url: '/pages/case/detail?number=2026-000007' }]);
  });

  test('a retry after a failure sends the same client request id (never two cases)', async () => {
    let attempts = 0;
    const wx = installWx(routes(() => {
      attempts += 1;
      return attempts === 1 ? 'network' : { status: 201, body: { case: caseBody(), created: true } };
    }));
    wx.modalConfirm = false;
    const page = render('pages/report/index');
    page.instance.onLoad({ deputy: 'DB0001' });
    await flush();
    page.instance.onCategory({ detail: { value: '1' } });
    page.instance.onContent({ detail: { value: '西街后巷路灯坏了。' } });
    await page.instance.onSubmit();
    expect(wx.calls.toasts).toEqual(['网络不给力，请检查网络后重试']);
    await page.instance.onSubmit();
    const ids = sent(wx, 'POST', '/cases').map((r) => r.data.client_request_id);
    expect(ids).toHaveLength(2);
    expect(ids[0]).toBe(ids[1]);
    expect(wx.calls.subscribes).toEqual([]); // consent declined in the modal: nothing asked of WeChat
    expect(wx.calls.navigations).toHaveLength(1);
  });

  test('the server refusing risky content shows its message and stays on the form', async () => {
    const wx = installWx(routes({ status: 400, body: { error: { code: 'content_risky', message: '内容可能含有违规信息，请修改后再提交' } } }));
    const page = render('pages/report/index');
    page.instance.onLoad({ project: 'XM001' });
    await flush();
    page.instance.onCategory({ detail: { value: '0' } });
    page.instance.onContent({ detail: { value: '这里是一段会被拒绝的内容' } });
    expect(text(page)).toContain('老旧小区改造');
    await page.instance.onSubmit();
    expect(sent(wx, 'POST', '/cases')[0].data.project).toBe('XM001');
    expect(wx.calls.toasts).toEqual(['内容可能含有违规信息，请修改后再提交']);
    expect(wx.calls.navigations).toEqual([]);
    expect(page.data.busy).toBe(false);
  });
});

describe('project, station and messages', () => {
  const PROJECT = { code: 'XM001', name: '老旧小区改造', year: 2026, progress: 62, status_label: '建设中', department: '县住建局',
    location: '城关镇', description: '', milestones: [{ title: '完成设计', done: true, done_on: '2026-03-05' }],
    updates: [{ text: '路基已完成', progress: 40, photos: [], at: '2026-05-01T10:00:00+08:00' }],
    deputies: [DEPUTY], followers: 3, following: false };

  test('a plaque scan opens the project; follow asks for consent; report links to the form', async () => {
    const wx = installWx({
      'GET /projects/XM001': { body: { project: PROJECT } },
      'PUT /projects/XM001/follow': { body: { following: true, followers: 4 } },
      'DELETE /projects/XM001/follow': { body: { following: false, followers: 3 } },
      'GET /subscriptions': { body: { templates: { project_progress: 'tpl-project' }, quotas: {} } },
      'POST /subscriptions': { body: { quotas: { project_progress: 1 }, ignored: [] } },
    });
    const page = render('pages/project/detail');
    await page.instance.onLoad({ q: encodeURIComponent('https://daibiao.example.cn/p/XM001') });
    expect(text(page)).toContain('路基已完成');
    expect(text(page)).toContain('周建华');
    await page.instance.onFollow();
    expect(page.data.project.following).toBe(true);
    expect(wx.calls.subscribes).toEqual([['tpl-project']]);
    expect(text(page)).toContain('4人关注');
    await page.instance.onFollow();
    expect(sent(wx, 'DELETE', '/projects/XM001/follow')).toHaveLength(1);
    expect(wx.calls.subscribes).toHaveLength(1);
    await tap(page, '.report');
    expect(wx.calls.navigations).toEqual([{ kind: 'navigateTo', url: '/pages/report/index?project=XM001' }]);
  });

  test('a station board scan lists its deputies and lets people report to the station', async () => {
    const wx = installWx({ 'GET /stations/ZCG': { body: { station: {
      code: 'ZCG', name: '城关镇人大代表联络站', level_label: '乡镇级', kind_label: '代表联络站', address: '镇政府院内',
      reception_hours: '每周二 9:00—11:30', phone: '', deputies: [DEPUTY], children: [] } } } });
    const page = render('pages/station/index');
    await page.instance.onLoad({ scene: 's=ZCG' });
    expect(text(page)).toContain('每周二 9:00—11:30');
    await tap(page, '.deputy');
    await tap(page, '.report');
    expect(wx.calls.navigations.map((n) => n.url)).toEqual(['/pages/deputy/index?code=DB0001', '/pages/report/index?station=ZCG']);
  });

  test('messages: tapping one marks it read and opens its page', async () => {
    let unread = 2;
    const wx = installWx({
      'GET /me/notifications?page=1': () => ({ body: { unread, total: 2, notifications: [
        { id: 5, title: '代表回复了您', body: '2026-000007：已联系', link: 'pages/case/detail?number=2026-000007', at: 'x', read: unread < 2 },
        { id: 4, title: '反映已受理', body: '您的反映已受理', link: 'pages/case/detail?number=2026-000007', at: 'x', read: false }] } }),
      'POST /me/notifications/read': ({ data }) => { unread -= data.all ? unread : data.ids.length; return { body: { marked: 1, unread } }; },
    });
    const page = render('pages/messages/index');
    await page.instance.onShow();
    expect(text(page)).toContain('未读 2 条');
    await page.instance.onOpen({ currentTarget: { dataset: { index: 0 } } });
    expect(sent(wx, 'POST', '/me/notifications/read')[0].data).toEqual({ ids: [5] });
    expect(wx.calls.navigations).toEqual([{ kind: 'navigateTo', url: '/pages/case/detail?number=2026-000007' }]);
    expect(text(page)).toContain('未读 1 条');
    await page.instance.onReadAll();
    expect(text(page)).toContain('未读 0 条');
  });
});

describe('the mini-program as a whole', () => {
  const files = (dir, ext) => fs.readdirSync(path.join(ROOT, dir), { recursive: true })
    .filter((f) => f.endsWith(ext)).map((f) => path.join(dir, f));
  const app = JSON.parse(fs.readFileSync(path.join(ROOT, 'app.json'), 'utf8'));

  test('every page in app.json exists, and the links notifications use are pages', () => {
    app.pages.forEach((page) => ['js', 'json', 'wxml'].forEach((ext) => {
      expect(fs.existsSync(path.join(ROOT, `${page}.${ext}`))).toBe(true);
    }));
    ['pages/case/detail', 'pages/workbench/case', 'pages/workbench/index', 'pages/project/detail', 'pages/project/following',
      'pages/deputy/index'].forEach((page) => expect(app.pages).toContain(page));
    const project = JSON.parse(fs.readFileSync(path.join(ROOT, 'project.config.json'), 'utf8'));
    expect(project.appid).toMatch(/^wx0+$/);
  });

  test('pages and components never call wx.request or wx.uploadFile themselves', () => {
    [...files('pages', '.js'), ...files('components', '.js')].forEach((file) => {
      const source = fs.readFileSync(path.join(ROOT, file), 'utf8');
      expect({ file, calls: /wx\.(request|uploadFile)\s*\(/.test(source) }).toEqual({ file, calls: false });
    });
  });

  test('text is never smaller than 14px and nothing is wider than a 320-px screen', () => {
    ['app.wxss', ...files('pages', '.wxss'), ...files('components', '.wxss')].forEach((file) => {
      const css = fs.readFileSync(path.join(ROOT, file), 'utf8');
      for (const [, size, unit] of css.matchAll(/font-size:\s*([\d.]+)(px|rpx|rem|em|%)?/g)) {
        // rem: of the root size, never below WeChat's standard 17px (services/fontsize.js)
        const px = unit === 'rem' ? Number(size) * 17 : unit === 'px' ? Number(size) : 0;
        expect({ file, ok: px >= 14 }).toEqual({ file, ok: true });
      }
      for (const [, size] of css.matchAll(/(?:^|[^-])width:\s*(\d+)px/g)) {
        expect({ file, width: Number(size) <= 320 }).toEqual({ file, width: true });
      }
    });
  });
});

describe('长辈版: pages follow the font size set in WeChat', () => {
  const files = (dir, ext) => fs.readdirSync(path.join(ROOT, dir), { recursive: true })
    .filter((f) => f.endsWith(ext)).map((f) => path.join(dir, f));
  test('every page sets its root font size from the WeChat setting, and the styles size text in rem', () => {
    const wx = installWx();
    wx.getSystemInfoSync = () => ({ fontSizeSetting: 24 });
    files('pages', '.wxml').forEach((file) => {
      const wxml = fs.readFileSync(path.join(ROOT, file), 'utf8');
      expect({ file, first: wxml.startsWith('<page-meta root-font-size="{{rootFontSize}}">') })
        .toEqual({ file, first: true });
    });
    expect(render('pages/index/index').data.rootFontSize).toBe('24px');
    expect(render('pages/case/detail').data.rootFontSize).toBe('24px');
    wx.getSystemInfoSync = () => ({ fontSizeSetting: 12 });
    expect(render('pages/report/index').data.rootFontSize).toBe('17px'); // never below the standard
    ['app.wxss', ...files('components', '.wxss')].forEach((file) => {
      const css = fs.readFileSync(path.join(ROOT, file), 'utf8');
      expect({ file, px: css.match(/font-size:\s*\d+px/g) }).toEqual({ file, px: null });
    });
  });
});
