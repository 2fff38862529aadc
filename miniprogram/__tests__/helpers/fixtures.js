/* Test data and helpers shared by the page tests. */
const path = require('path');
const { simulate } = require('./simulate');

const ROOT = path.resolve(__dirname, '..', '..');
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

module.exports = { ROOT, tap, DEPUTY, CATEGORIES, caseBody };
