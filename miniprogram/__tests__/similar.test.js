const { render, text } = require('./helpers/simulate');
const { installWx, sent, flush } = require('./helpers/wx');
const { tap, DEPUTY, CATEGORIES } = require('./helpers/fixtures');

describe('附近有相同的反映 on the report form', () => {
  const SIMILAR = { number: '2026-000001', title: '南塘村村口的路坑坑洼洼', location: '南塘村村口', submitted: '2026-11-20',
    state: '已提交', supporters: 2, score: 0.61 };

  test('written text asks for similar reports nearby; 我也遇到 follows the first instead of filing', async () => {
    const wx = installWx({
      'GET /deputies/DB0001': { body: { deputy: DEPUTY } },
      'GET /categories': { body: CATEGORIES },
      'GET /similar': { body: { similar: [SIMILAR] } },
      'POST /cases/2026-000001/support': { status: 201, body: { supporters: 3, added: true } },
    });
    const page = render('pages/report/index');
    page.instance.onLoad({ deputy: 'DB0001' });
    await flush();
    expect(page.querySelector('.similar')).toBeFalsy();
    page.instance.onContent({ detail: { value: '南塘村村口那条路烂得没法走了' } });
    await page.instance.lookSimilar();
    const [asked] = sent(wx, 'GET', '/similar?deputy=DB0001&text=%E5%8D%97%E5%A1%98%E6%9D%91%E6%9D%91%E5%8F%A3%E9%82%A3%E6%9D%A1%E8%B7%AF%E7%83%82%E5%BE%97%E6%B2%A1%E6%B3%95%E8%B5%B0%E4%BA%86');
    expect(asked).toBeTruthy();
    expect(text(page)).toContain('附近有相同的反映');
    expect(text(page)).toContain('南塘村村口的路坑坑洼洼');
    expect(text(page)).toContain('2 人也遇到');
    await tap(page, '.support');
    expect(sent(wx, 'POST', '/cases/2026-000001/support')).toHaveLength(1);
    expect(text(page)).toContain('3 人也遇到');
    expect(text(page)).toContain('已点“我也遇到”');
    expect(sent(wx, 'POST', '/cases')).toHaveLength(0);
  });

  test('too little text asks nothing', async () => {
    const wx = installWx({ 'GET /categories': { body: CATEGORIES }, 'GET /deputies/DB0001': { body: { deputy: DEPUTY } } });
    const page = render('pages/report/index');
    page.instance.onLoad({ deputy: 'DB0001' });
    page.instance.onContent({ detail: { value: '路' } });
    await page.instance.lookSimilar();
    expect(wx.calls.requests.filter((r) => r.url.includes('/similar'))).toHaveLength(0);
  });
});
