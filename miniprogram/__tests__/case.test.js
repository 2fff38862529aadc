const fs = require('fs');
const path = require('path');
const { render, text, simulate } = require('./helpers/simulate');
const { installWx, sent, flush } = require('./helpers/wx');

const ROOT = path.resolve(__dirname, '..');
const tap = async (comp, selector, index = 0) => {
  comp.querySelectorAll(selector)[index].dispatchEvent('tap');
  await simulate.sleep(0);
};

const DEPUTY = {
  code: 'DB0001', name: '周建华', level: 'county', level_label: '县人大代表', photo: '', constituency: '城关镇选区',
  station: { code: 'ZCG', name: '城关镇人大代表联络站' }, bio: '热心为群众办实事。', public_contact: '',
  term_ended: false, projects: [{ code: 'XM001', name: '老旧小区改造', status_label: '建设中', progress: 62 }],
};
const CATEGORIES = {
  categories: [{ code: 'traffic', label: '交通出行' }, { code: 'construction', label: '城乡建设' }],
  ratings: [{ code: 'satisfied', label: '满意' }, { code: 'basic', label: '基本满意' }, { code: 'unsatisfied', label: '不满意' }],
  decline_reasons: [{ code: 'duplicate', label: '重复反映' }, { code: 'other', label: '其他原因' }],
  limits: { content: 2000 },
};
const caseBody = (over = {}) => ({
  number: '2026-000007', title: '校门口缺少减速带', content: '小学门口车速很快', category_label: '交通出行',
  state: 'answered', state_label: '已答复，请您评价', submitted_at: '2026-05-01T10:00:00+08:00', photos: [{ id: 'p1', url: '/uploads/p1' }],
  location: '', deputy: DEPUTY, reporter: null, contact_phone: '', answers: [{ department: '县交通运输局', answer_class_label: '已解决', text: '已设置减速带', at: 'x' }],
  rating_label: '', timeline: [{ at: '2026-05-01T10:00:00+08:00', label: '您提交了反映', note: '' }],
  allowed_actions: [{ action: 'rate', label: '评价' }], ...over,
});

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

  test('my cases lists mine and opens one', async () => {
    const wx = installWx({ 'GET /cases/mine?page=1': { body: { cases: [caseBody()], total: 1 } } });
    const page = render('pages/case/mine');
    await page.instance.onShow();
    expect(text(page)).toContain('校门口缺少减速带');
    await tap(page, '.case >>> .cc');
    expect(wx.calls.navigations).toEqual([{ kind: 'navigateTo', url: '/pages/case/detail?number=2026-000007' }]);
  });
});

