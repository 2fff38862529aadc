const { render, text, simulate } = require('./helpers/simulate');
const { installWx, sent, flush } = require('./helpers/wx');

const { tap, CATEGORIES, caseBody } = require('./helpers/fixtures');

describe('case detail', () => {
  test('shows the answer and timeline; rating comes from allowed_actions and is sent', async () => {
    const rated = caseBody({ state: 'rated', state_label: '您已评价', rating_label: '满意', allowed_actions: [],
      timeline: [...caseBody().timeline, { at: '2026-05-03T08:00:00+08:00', label: '您评价了办理结果', note: '' }] });
    const wx = installWx({
      'GET /categories': { body: CATEGORIES },
      'GET /cases/2026-000007': { body: { case: caseBody() } },
      'POST /cases/2026-000007/rating': { body: { case: rated } },
    });
    const page = render('pages/case/detail');
    await page.instance.onLoad({ number: '2026-000007' });
    await flush();
    expect(text(page)).toContain('已设置减速带');
    expect(text(page)).toContain('您提交了反映');
    expect(page.querySelectorAll('.state')[0].dom.textContent).toBe('已答复，请您评价');
    const bar = page.querySelector('.actions');
    expect(bar).toBeTruthy();
    page.instance.onAction({ detail: { action: 'rate' } });
    await simulate.sleep(0);
    await tap(page, '.rating', 0);
    page.instance.onNote({ detail: { value: '很快就修好了' } });
    await page.instance.onSubmitForm();
    expect(sent(wx, 'POST', '/cases/2026-000007/rating')[0].data).toEqual({ value: 'satisfied', comment: '很快就修好了' });
    expect(text(page)).toContain('您评价了办理结果');
    expect(text(page)).toContain('您的评价：满意');
  });

  test('after closing, "问题是否真正解决了？" is answered with one tap and sent as the API expects', async () => {
    const closed = caseBody({ state: 'closed', state_label: '已办结',
      allowed_actions: [{ action: 'resolution', label: '群众反馈是否解决' }] });
    const answered = caseBody({ state: 'closed', state_label: '已办结', allowed_actions: [],
      timeline: [...caseBody().timeline, { at: '2026-06-01T08:00:00+08:00', label: '您反馈了问题是否真正解决', note: '' }] });
    const wx = installWx({
      'GET /categories': { body: CATEGORIES },
      'GET /cases/2026-000007': { body: { case: closed } },
      'POST /cases/2026-000007/actions/resolution': { body: { case: answered } },
    });
    const page = render('pages/case/detail');
    await page.instance.onLoad({ number: '2026-000007' });
    await flush();
    page.instance.onAction({ detail: { action: 'resolution' } });
    await simulate.sleep(0);
    expect(text(page)).toContain('问题是否真正解决了？');
    expect(page.querySelectorAll('.resolved').map((b) => b.dom.textContent.trim())).toEqual(['已解决', '没有解决']);
    expect(page.querySelector('.submit-form')).toBeFalsy();
    await tap(page, '.resolved', 1);
    await flush();
    expect(sent(wx, 'POST', '/cases/2026-000007/actions/resolution')[0].data).toEqual({ resolved: 'no' });
    expect(wx.calls.modals).toEqual([]);
    expect(text(page)).toContain('您反馈了问题是否真正解决');
    expect(text(page)).not.toContain('问题是否真正解决了？');
  });

  test('my cases lists mine and opens one', async () => {
    const wx = installWx({ 'GET /cases/mine?page=1': { body: { cases: [caseBody()], total: 1 } } });
    const page = render('pages/case/mine');
    await page.instance.onShow();
    expect(text(page)).toContain('校门口缺少减速带');
    await tap(page, '.case >>> .cc');
    expect(wx.calls.navigations).toEqual([{ kind: 'navigateTo', url: '/pages/case/detail?number=2026-000007' }]);
  });
});

