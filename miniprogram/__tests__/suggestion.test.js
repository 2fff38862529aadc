const { render, text } = require('./helpers/simulate');
const { installWx, sent, flush } = require('./helpers/wx');

const suggestion = (extra = {}) => ({
  number: 'JY2026-00001', title: '关于改造老旧小区供水管网的建议', state: 'draft', state_label: '草稿（未提交）',
  category: 'construction', category_label: '城乡建设', session: 3, session_label: '第3次会议', registered_number: null,
  lead_deputy: '周建华', cause: '供水管网老化', reasons: '爆管频繁，居民反映强烈。', measures: '分年度纳入改造计划。',
  signers: [{ code: 'DEP001', name: '周建华', role: 'lead', confirmed: true, declined: false },
    { code: 'DEP002', name: '吴秀英', role: 'co', confirmed: false, declined: false }],
  answers: [], evaluations: [], allowed_actions: [], ...extra,
});

describe('代表建议 in the deputy workbench', () => {
  test('the list opens a suggestion; the workbench links to it', async () => {
    const wx = installWx({ 'GET /suggestions': { body: { suggestions: [suggestion()] } },
      'GET /deputy/cases?state=todo&page=1': { body: { cases: [], total: 0, counts: {} } } });
    const list = render('pages/suggestion/index');
    await list.instance.onShow();
    expect(text(list)).toContain('关于改造老旧小区供水管网的建议');
    list.instance.onOpen({ currentTarget: { dataset: { number: 'JY2026-00001' } } });
    const bench = render('pages/workbench/index');
    bench.instance.onSuggestions();
    expect(wx.calls.navigations).toEqual([{ kind: 'navigateTo', url: '/pages/suggestion/detail?number=JY2026-00001' },
      { kind: 'navigateTo', url: '/pages/suggestion/index' }]);
  });

  test('a co-signer confirms; the buttons follow allowed_actions', async () => {
    const invited = suggestion({ allowed_actions: [{ action: 'cosign', label: '确认附议' },
      { action: 'decline_cosign', label: '不附议' }] });
    const confirmed = suggestion({ signers: invited.signers.map((s) => ({ ...s, confirmed: true })) });
    const wx = installWx({ 'GET /suggestions/JY2026-00001': { body: { suggestion: invited } },
      'POST /suggestions/JY2026-00001/actions/cosign': { body: { suggestion: confirmed } } });
    const page = render('pages/suggestion/detail');
    await page.instance.onLoad({ number: 'JY2026-00001' });
    expect(page.instance.data.actions.map((a) => a.label)).toEqual(['确认附议', '不附议']);
    expect(text(page)).toContain('吴秀英（待确认）');
    await page.instance.onAction({ currentTarget: { dataset: { action: 'cosign' } } });
    expect(sent(wx, 'POST', '/suggestions/JY2026-00001/actions/cosign')).toHaveLength(1);
    expect(text(page)).toContain('吴秀英（已确认）');
    expect(page.instance.data.actions).toEqual([]);
  });

  test('测评 needs all three marks and sends them with the comment; a refusal is shown', async () => {
    const answered = suggestion({ state: 'answered', state_label: '已答复，请测评',
      answers: [{ round: 1, answer_class: 'B', answer_class_label: '正在解决或列入计划', text: '已列入计划。', at: 'x' }],
      allowed_actions: [{ action: 'evaluate', label: '测评' }] });
    const rated = suggestion({ ...answered, state: 'rated', state_label: '已测评', allowed_actions: [] });
    let calls = 0;
    const wx = installWx({ 'GET /suggestions/JY2026-00001': { body: { suggestion: answered } },
      'POST /suggestions/JY2026-00001/actions/evaluate': () => {
        calls += 1;
        return calls === 1 ? { body: { suggestion: rated } }
          : { status: 409, body: { error: { code: 'already_evaluated', message: '您已对本轮答复进行过测评，不能重复测评' } } };
      } });
    const page = render('pages/suggestion/detail');
    await page.instance.onLoad({ number: 'JY2026-00001' });
    expect(text(page)).toContain('第1轮答复（B类 正在解决或列入计划）');
    await page.instance.onAction({ currentTarget: { dataset: { action: 'evaluate' } } });
    page.instance.onMark({ currentTarget: { dataset: { key: 'contact' } }, detail: { value: '1' } });
    await page.instance.onSubmitEvaluation();
    expect(wx.calls.toasts).toContain('请选择办理态度');
    page.instance.onMark({ currentTarget: { dataset: { key: 'attitude' } }, detail: { value: '0' } });
    page.instance.onMark({ currentTarget: { dataset: { key: 'result' } }, detail: { value: '2' } });
    page.instance.onComment({ detail: { value: '资金没有落实' } });
    await page.instance.onSubmitEvaluation();
    expect(sent(wx, 'POST', '/suggestions/JY2026-00001/actions/evaluate')[0].data).toEqual(
      { contact: 'basic', attitude: 'satisfied', result: 'unsatisfied', comment: '资金没有落实' });
    expect(text(page)).toContain('已测评');
    page.setData({ form: 'evaluate', marks: { contact: 'basic', attitude: 'basic', result: 'basic' } });
    await page.instance.onSubmitEvaluation();
    await flush();
    expect(wx.calls.toasts).toContain('您已对本轮答复进行过测评，不能重复测评');
  });

  const vocab = { body: { categories: [{ code: 'construction', label: '城乡建设' }, { code: 'education', label: '教育' }],
    limits: { title: 50, cause: 200, reasons: 3000, measures: 3000 } } };
  const type = (page, field, value) => page.instance.onInput({ currentTarget: { dataset: { field } }, detail: { value } });

  test('a deputy drafts a new suggestion from the list; the server refusal is shown and nothing is lost', async () => {
    let calls = 0;
    const wx = installWx({ 'GET /categories': vocab,
      'POST /suggestions': () => {
        calls += 1;
        return calls === 1 ? { status: 400, body: { error: { code: 'unknown_deputy', message: '附议代表有误，请核对代表码' } } }
          : { status: 201, body: { suggestion: suggestion() } };
      } });
    const list = render('pages/suggestion/index');
    list.instance.onDraft();
    expect(wx.calls.navigations).toEqual([{ kind: 'navigateTo', url: '/pages/suggestion/edit' }]);
    const page = render('pages/suggestion/edit');
    await page.instance.onLoad({});
    type(page, 'title', '关于改造老旧小区供水管网的建议');
    type(page, 'cause', '供水管网老化');
    type(page, 'reasons', '爆管频繁，居民反映强烈。');
    type(page, 'measures', '分年度纳入改造计划。');
    page.instance.onCategory({ detail: { value: '0' } });
    page.instance.onSession({ detail: { value: '3' } });
    type(page, 'cosigners', 'DEP002，DEP999');
    type(page, 'fromReports', 'FY2026-00012');
    expect(text(page)).toContain('城乡建设');
    expect(text(page)).toContain('第3次会议');
    await page.instance.onSave();
    expect(text(page)).toContain('附议代表有误，请核对代表码');
    type(page, 'cosigners', 'DEP002');
    await page.instance.onSave();
    const posted = sent(wx, 'POST', '/suggestions');
    expect(posted[0].data).toEqual({ title: '关于改造老旧小区供水管网的建议', cause: '供水管网老化',
      reasons: '爆管频繁，居民反映强烈。', measures: '分年度纳入改造计划。', category: 'construction', session: 3,
      cosigners: ['DEP002', 'DEP999'], from_reports: ['FY2026-00012'] });
    expect(posted[1].data.cosigners).toEqual(['DEP002']);
    expect(text(page)).not.toContain('附议代表有误');
    expect(wx.calls.navigations[1]).toEqual({ kind: 'redirectTo', url: '/pages/suggestion/detail?number=JY2026-00001' });
  });

  test('修改草稿 opens the form filled with the draft and sends edit_draft', async () => {
    const draft = suggestion({ from_reports: ['FY2026-00012'],
      allowed_actions: [{ action: 'edit_draft', label: '修改草稿' }, { action: 'submit', label: '提交' }] });
    const wx = installWx({ 'GET /categories': vocab, 'GET /suggestions/JY2026-00001': { body: { suggestion: draft } },
      'POST /suggestions/JY2026-00001/actions/edit_draft': { body: { suggestion: draft } } });
    const detail = render('pages/suggestion/detail');
    await detail.instance.onLoad({ number: 'JY2026-00001' });
    await detail.instance.onAction({ currentTarget: { dataset: { action: 'edit_draft' } } });
    expect(wx.calls.navigations).toEqual([{ kind: 'navigateTo', url: '/pages/suggestion/edit?number=JY2026-00001' }]);
    const page = render('pages/suggestion/edit');
    await page.instance.onLoad({ number: 'JY2026-00001' });
    expect(page.instance.data).toMatchObject({ title: '关于改造老旧小区供水管网的建议', cosigners: 'DEP002',
      fromReports: 'FY2026-00012', categoryIndex: 0, sessionIndex: 3 });
    expect(text(page)).toContain('第3次会议');
    type(page, 'measures', '分年度纳入改造计划，优先改造爆管最多的小区。');
    await page.instance.onSave();
    expect(sent(wx, 'POST', '/suggestions/JY2026-00001/actions/edit_draft')[0].data).toMatchObject(
      { measures: '分年度纳入改造计划，优先改造爆管最多的小区。', category: 'construction', session: 3, cosigners: ['DEP002'] });
    expect(sent(wx, 'POST', '/suggestions')).toEqual([]);
  });
});
