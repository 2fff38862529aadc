// Drafting a 代表建议 as its lead deputy: a new draft (POST /suggestions) or 修改草稿 (?number=…, the
// `edit_draft` action). The server checks every value; its Chinese refusal is shown above the form.
const api = require('../../services/api');
const fontSize = require('../../services/fontsize');

const MAX_SESSION = 30;
const SESSIONS = Array.from({ length: MAX_SESSION + 1 }, (_, n) => ({ code: n, label: n ? `第${n}次会议` : '闭会期间' }));
const FIELDS = ['title', 'cause', 'reasons', 'measures'];
const list = (value) => value.split(/[\s,，、;；]+/).filter(Boolean);

Component({
  behaviors: [fontSize],
  data: {
    number: '', title: '', cause: '', reasons: '', measures: '', cosigners: '', fromReports: '',
    categories: [], limits: {}, categoryIndex: -1, sessions: SESSIONS, sessionIndex: 0, error: '', busy: false,
  },
  methods: {
    onLoad(options = {}) {
      const number = options.number || '';
      this.setData({ number });
      wx.setNavigationBarTitle({ title: number ? '修改草稿' : '起草建议' });
      return Promise.all([api.categories(), number ? api.getSuggestion(number) : null]).then(([vocab, body]) => {
        const { categories, limits } = vocab;
        this.setData({ categories, limits });
        if (!body) return;
        const s = body.suggestion;
        this.setData({
          ...Object.fromEntries(FIELDS.map((f) => [f, s[f] || ''])),
          categoryIndex: categories.findIndex((c) => c.code === s.category),
          sessionIndex: s.session || 0,
          cosigners: s.signers.filter((x) => x.role === 'co').map((x) => x.code).join(' '),
          fromReports: (s.from_reports || []).join(' '),
        });
      }, (err) => this.setData({ error: err.message }));
    },
    onInput(event) { this.setData({ [event.currentTarget.dataset.field]: event.detail.value }); },
    onCategory(event) { this.setData({ categoryIndex: Number(event.detail.value) }); },
    onSession(event) { this.setData({ sessionIndex: Number(event.detail.value) }); },
    onSave() {
      const d = this.data;
      if (d.busy) return Promise.resolve();
      const data = {
        ...Object.fromEntries(FIELDS.map((f) => [f, d[f].trim()])),
        category: d.categoryIndex >= 0 ? d.categories[d.categoryIndex].code : '',
        session: d.sessions[d.sessionIndex].code,
        cosigners: list(d.cosigners), from_reports: list(d.fromReports),
      };
      this.setData({ busy: true, error: '' });
      const saving = d.number ? api.suggestionAct(d.number, 'edit_draft', data) : api.draftSuggestion(data);
      return saving.then((body) => {
        this.setData({ busy: false });
        wx.showToast({ title: '草稿已保存', icon: 'success' });
        wx.redirectTo({ url: `/pages/suggestion/detail?number=${body.suggestion.number}` });
      }, (err) => this.setData({ busy: false, error: err.message }));
    },
  },
});
