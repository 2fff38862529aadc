// 问政 in the mini-program: a station's page lists the 问政 collecting questions; the ask form sends the content,
// photos, the place and the station; the server's refusal is shown; a closed event shows no form.
const { render, text } = require('./helpers/simulate');
const { installWx, sent, flush } = require('./helpers/wx');
const { tap } = require('./helpers/fixtures');

const BRIEF = { code: 'W8K2M4P6', topic: '城区停车难问题专题问政', form: 'online', form_label: '网络问政', held_at: null,
  place: '', collect_closes: '2026-12-08T18:00:00+08:00', objects: ['县交通运输局', '县住建局'] };
const detail = (over = {}) => ({ inquiry: { ...BRIEF, stage: 'mobilisation', stage_label: '动员部署', collecting: true,
  lists: {}, results: [], ...over } });

test('from the list through a station: ask with photos and the place; a refusal is shown', async () => {
  let answer = { status: 409, body: { error: { code: 'not_collecting', message: '问题征集已经结束' } } };
  const wx = installWx({
    'GET /inquiries': { body: { inquiries: [BRIEF] } },
    'GET /inquiries/W8K2M4P6': { body: detail() },
    'POST /uploads': ({ data }) => ({ status: 201, body: { id: `up-${data.filePath.slice(-5)}`, url: '/uploads/x' } }),
    'POST /inquiries/W8K2M4P6/questions': () => answer,
  });
  const list = render('pages/inquiry/index');
  await list.instance.onLoad({ station: 'zcg' });
  expect(sent(wx, 'GET', '/inquiries?station=ZCG')).toHaveLength(1);
  expect(text(list)).toContain('城区停车难问题专题问政');
  expect(text(list)).toContain('县交通运输局、县住建局');
  await tap(list, '.inquiry');
  expect(wx.calls.navigations).toEqual([{ kind: 'navigateTo', url: '/pages/inquiry/ask?code=W8K2M4P6&station=ZCG' }]);

  const page = render('pages/inquiry/ask');
  await page.instance.onLoad({ code: 'W8K2M4P6', station: 'ZCG' });
  page.instance.onContent({ detail: { value: '短' } });
  await tap(page, '.submit');
  expect(wx.calls.toasts).toEqual(['请把问题写清楚（至少5个字）']);
  page.instance.onContent({ detail: { value: ' 人民路晚上车辆乱停，消防通道被堵。 ' } });
  wx.pickedFiles = ['wxfile://a.jpg', 'wxfile://b.jpg'];
  await page.instance.onPickPhotos();
  wx.pickedLocation = { name: '人民路口', address: '城关镇人民路', latitude: 28.1, longitude: 112.9 };
  await tap(page, '.locate');
  expect(text(page)).toContain('人民路口');
  await page.instance.onSubmit();
  expect(wx.calls.toasts).toContain('问题征集已经结束');
  expect(page.querySelector('.asked')).toBeFalsy();
  answer = { status: 201, body: { question: { number: '2026-WZ0001', state: 'submitted', state_label: '已提交，等待筛选' } } };
  await page.instance.onSubmit();
  const posts = sent(wx, 'POST', '/inquiries/W8K2M4P6/questions');
  expect(posts).toHaveLength(2);
  expect(posts[1].data).toEqual({ title: '', content: '人民路晚上车辆乱停，消防通道被堵。', photos: ['up-a.jpg', 'up-b.jpg'],
    location: '人民路口', latitude: 28.1, longitude: 112.9, station: 'ZCG' });
  expect(text(page)).toContain('问题 2026-WZ0001 已提交');
});

test("a station's printed code opens the form with its station", async () => {
  const wx = installWx({
    'GET /inquiries/W8K2M4P6': { body: detail() },
    'POST /inquiries/W8K2M4P6/questions': { status: 201, body: { question: { number: '2026-WZ0002', state_label: '已提交，等待筛选' } } },
  });
  const page = render('pages/inquiry/ask');
  await page.instance.onLoad({ q: encodeURIComponent('https://daibiao.example.cn/w/W8K2M4P6/ask?s=zcg1') });
  page.instance.onContent({ detail: { value: '城关镇农贸市场周边停车难。' } });
  await page.instance.onSubmit();
  expect(sent(wx, 'POST', '/inquiries/W8K2M4P6/questions')[0].data.station).toBe('ZCG1');
});

test('a scanned event link opens the form; after the window there is no form', async () => {
  const wx = installWx({ 'GET /inquiries/W8K2M4P6': { body: detail({ collecting: false, stage: 'sorting', stage_label: '问题梳理' }) } });
  const page = render('pages/inquiry/ask');
  await page.instance.onLoad({ q: encodeURIComponent('https://daibiao.example.cn/w/W8K2M4P6') });
  expect(sent(wx, 'GET', '/inquiries/W8K2M4P6')).toHaveLength(1);
  expect(text(page)).toContain('问题征集已经结束');
  expect(page.querySelector('.submit')).toBeFalsy();
  await flush();
});
