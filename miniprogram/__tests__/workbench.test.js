const { render, text } = require('./helpers/simulate');
const { installWx, sent, flush } = require('./helpers/wx');

const { tap, CATEGORIES, caseBody } = require('./helpers/fixtures');

describe('deputy workbench', () => {
  const submitted = caseBody({ state: 'submitted', state_label: '待受理', answers: [], allowed_actions: [
    { action: 'accept', label: '受理' }, { action: 'decline', label: '不予受理' }, { action: 'forward', label: '转交人大办' },
    { action: 'opinion', label: '代表意见' }, { action: 'reply', label: '回复群众' }],
  reporter: { anonymous: false, display_name: '李四', phone: '138****1111' } });

  test('the inbox shows tabs with counts and opens a case', async () => {
    const wx = installWx({
      'GET /deputy/cases?state=todo&page=1': { body: { cases: [submitted], total: 1, counts: { submitted: 1 } } },
      'GET /deputy/cases?state=closed&page=1': { body: { cases: [], total: 0, counts: { submitted: 1 } } },
    });
    const page = render('pages/workbench/index');
    await page.instance.onShow();
    expect(text(page)).toContain('待受理 1 件');
    await tap(page, '.case >>> .cc');
    expect(wx.calls.navigations).toEqual([{ kind: 'navigateTo', url: '/pages/workbench/case?number=2026-000007' }]);
    await tap(page, '.tab', 2);
    await flush();
    expect(text(page)).toContain('这里没有案件');
  });

  test('accept after confirming, then reply with a note; buttons follow allowed_actions', async () => {
    const accepted = { ...submitted, state: 'accepted', state_label: '已受理', allowed_actions: [
      { action: 'opinion', label: '代表意见' }, { action: 'reply', label: '回复群众' }] };
    const wx = installWx({
      'GET /categories': { body: CATEGORIES },
      'GET /cases/2026-000007': { body: { case: submitted } },
      'POST /cases/2026-000007/actions/accept': { body: { case: accepted } },
      'POST /cases/2026-000007/actions/reply': { body: { case: accepted } },
    });
    const page = render('pages/workbench/case');
    await page.instance.onLoad({ number: '2026-000007' });
    expect(page.querySelector('.actions').instance.data.actions.map((a) => a.label))
      .toEqual(['受理', '不予受理', '转交人大办', '代表意见', '回复群众']);
    expect(text(page)).toContain('李四');
    page.instance.onAction({ detail: { action: 'accept' } });
    await flush();
    expect(wx.calls.modals).toEqual(['确认受理这条反映？']);
    expect(sent(wx, 'POST', '/cases/2026-000007/actions/accept')).toHaveLength(1);
    expect(page.querySelector('.actions').instance.data.actions.map((a) => a.action)).toEqual(['opinion', 'reply']);
    page.instance.onAction({ detail: { action: 'reply' } });
    await page.instance.onSubmitForm();
    expect(wx.calls.toasts).toContain('请填写回复群众的内容');
    page.instance.onNote({ detail: { value: '已联系城管局，本周修复。' } });
    await page.instance.onSubmitForm();
    expect(sent(wx, 'POST', '/cases/2026-000007/actions/reply')[0].data).toEqual({ note: '已联系城管局，本周修复。' });
  });

  test('decline asks for a reason', async () => {
    const wx = installWx({
      'GET /categories': { body: CATEGORIES },
      'GET /cases/2026-000007': { body: { case: submitted } },
      'POST /cases/2026-000007/actions/decline': { body: { case: { ...submitted, allowed_actions: [] } } },
    });
    const page = render('pages/workbench/case');
    await page.instance.onLoad({ number: '2026-000007' });
    await flush();
    page.instance.onAction({ detail: { action: 'decline' } });
    await page.instance.onSubmitForm();
    expect(wx.calls.toasts).toEqual(['请选择不予受理的原因']);
    page.instance.onReason({ detail: { value: '0' } });
    await page.instance.onSubmitForm();
    expect(sent(wx, 'POST', '/cases/2026-000007/actions/decline')[0].data).toEqual({ reason: 'duplicate', note: '' });
  });
});

