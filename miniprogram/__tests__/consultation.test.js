// 征集 in the mini-program: a station's list leads to the consultation; an article is picked and an opinion sent
// with the station; the server's refusal is shown; once published the replies and counts appear.
const { render, text } = require('./helpers/simulate');
const { installWx, sent, flush } = require('./helpers/wx');
const { tap } = require('./helpers/fixtures');

const BRIEF = { code: 'QABC2345', title: '《青山县农村人居环境治理条例（草案）》征求意见', kind: 'law', kind_label: '法规草案征求意见',
  mode: 'articles', audience: 'stations', state: 'open', state_label: '征求意见中', opens_at: '2026-12-01T09:00:00+08:00',
  closes_at: '2026-12-08T09:00:00+08:00' };
const SECTIONS = [{ id: 11, chapter: '第一章 总则', label: '第一条', text: '为了改善农村人居环境，制定本条例。' },
  { id: 12, chapter: '第一章 总则', label: '第二条', text: '本条例适用于本县行政区域。' }];
const detail = (over = {}) => ({ consultation: { ...BRIEF, intro: '', organiser: '县人大常委会法工委', opinion_word: '意见',
  prompt: '请写下您对本条的修改意见或建议', anonymous_allowed: false, stations: [], refusal: null, sections: SECTIONS, ...over } });

test('from the station page, pick article 2 and send a signed opinion with the station', async () => {
  let mine = [];
  const wx = installWx({
    'GET /stations/ZCG': { body: { station: { code: 'ZCG', name: '城关镇人大代表联络站', level_label: '乡镇级', kind_label: '代表联络站',
      address: '', reception_hours: '', phone: '', deputies: [], children: [] } } },
    'GET /consultations': { body: { consultations: [BRIEF] } },
    'GET /consultations/QABC2345': { body: detail() },
    'GET /consultations/QABC2345/opinions/mine': () => ({ body: { opinions: mine } }),
    'POST /consultations/QABC2345/opinions': ({ data }) => {
      mine = [{ id: 1, section: data.section, text: data.text, station: { code: 'ZCG' }, created_at: 'x', decision: null,
        decision_label: null, reason: '' }];
      return { status: 201, body: { opinion: mine[0] } };
    },
  });
  const station = render('pages/station/index');
  await station.instance.onLoad({ code: 'ZCG' });
  await flush();
  expect(sent(wx, 'GET', '/consultations?station=ZCG')).toHaveLength(1);
  await tap(station, '.consultation');
  expect(wx.calls.navigations).toEqual([{ kind: 'navigateTo', url: '/pages/consultation/detail?code=QABC2345&station=ZCG' }]);

  const page = render('pages/consultation/detail');
  await page.instance.onLoad({ code: 'QABC2345', station: 'ZCG' });
  expect(text(page)).toContain('第二条');
  expect(page.querySelector('.anonymous')).toBeFalsy(); // 法规草案: signed only
  await tap(page, '.section', 1);
  page.instance.onText({ detail: { value: '好' } });
  await page.instance.onSubmit();
  expect(wx.calls.toasts).toEqual(['请把意见写清楚（至少5个字）']);
  page.instance.onText({ detail: { value: '建议写明乡镇人民政府的职责。' } });
  page.instance.onName({ detail: { value: '王五' } });
  await page.instance.onSubmit();
  const [post] = sent(wx, 'POST', '/consultations/QABC2345/opinions');
  expect(post.data).toEqual({ section: 12, text: '建议写明乡镇人民政府的职责。', name: '王五', anonymous: false, station: 'ZCG' });
  expect(text(page)).toContain('等待答复');
});

test('a refusal from the server is shown instead of the form; published replies show counts and answers', async () => {
  installWx({
    'GET /consultations/QABC2345': { body: detail({ refusal: '征求意见已经截止' }) },
    'GET /consultations/QABC2345/opinions/mine': { body: { opinions: [] } },
  });
  const closed = render('pages/consultation/detail');
  await closed.instance.onLoad({ code: 'QABC2345' });
  expect(text(closed)).toContain('征求意见已经截止');
  expect(closed.querySelector('.submit')).toBeFalsy();

  installWx({
    'GET /consultations/QABC2345': { body: detail({ state: 'published', refusal: '征求意见已经截止',
      totals: { opinions: 1, people: 1, adopted: 0, partly: 1, rejected: 0, waiting: 0 },
      replies: [{ section: 12, counts: { opinions: 1, people: 1, adopted: 0, partly: 1, rejected: 0, waiting: 0 },
        opinions: [{ id: 1, section: 12, text: '建议写明职责。', decision: 'partly', decision_label: '部分采纳', reason: '已在第三条补充' }] }] }) },
    'GET /consultations/QABC2345/opinions/mine': { body: { opinions: [{ id: 1, section: 12, text: '建议写明职责。', created_at: 'x',
      decision: 'partly', decision_label: '部分采纳', reason: '已在第三条补充' }] } },
  });
  const published = render('pages/consultation/detail');
  await published.instance.onLoad({ q: encodeURIComponent('https://daibiao.example.cn/q/QABC2345') });
  expect(text(published)).toContain('意见1条：采纳0，部分采纳1，未采纳0');
  expect(text(published)).toContain('部分采纳：已在第三条补充');
});
