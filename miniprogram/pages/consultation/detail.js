// 征集 (opened from a consultation's code or a station's list): the draft article by article or the questions;
// pick one and give an opinion (signed, or anonymous where the kind allows); once published, every reply with
// the article's counts and one's own opinions with their answers. Rules: services/consultations.py.
const api = require('../../services/api');
const entry = require('../../services/entry');
const format = require('../../services/format');
const { toast } = require('../../services/request');
const fontSize = require('../../services/fontsize');

Component({
  behaviors: [fontSize],
  data: { consultation: null, error: '', section: null, text: '', name: '', anonymous: false, busy: false,
    mine: [], replies: {} },
  methods: {
    onLoad(options) {
      const { code, redirect } = entry.codeFor('consultation', options);
      if (redirect) { wx.redirectTo({ url: redirect }); return Promise.resolve(); }
      this.code = code;
      this.station = String(options.station || '').toUpperCase();
      return this.load();
    },
    load() {
      return Promise.all([api.consultation(this.code, this.station), api.myOpinions(this.code)]).then(([body, own]) => {
        const c = body.consultation;
        const replies = {};
        (c.replies || []).forEach((part) => { replies[part.section === null ? 'all' : part.section] = part; });
        this.setData({ consultation: { ...c, closes: format.time(c.closes_at) }, replies,
          mine: own.opinions.map((o) => ({ ...o, at: format.time(o.created_at) })) });
      }, (err) => this.setData({ error: err.message }));
    },
    onPick(event) {
      const id = event.currentTarget.dataset.id;
      this.setData({ section: id === 'all' ? null : Number(id) });
    },
    onText(event) { this.setData({ text: event.detail.value }); },
    onName(event) { this.setData({ name: event.detail.value }); },
    onAnonymous(event) { this.setData({ anonymous: event.detail.value }); },
    onSubmit() {
      if (this.data.busy) return Promise.resolve();
      const d = this.data;
      if (d.text.trim().length < 5) { toast('请把意见写清楚（至少5个字）'); return Promise.resolve(); }
      if (!d.anonymous && !d.name.trim()) { toast('请填写姓名'); return Promise.resolve(); }
      this.setData({ busy: true });
      const data = { section: d.section, text: d.text.trim(), name: d.name.trim(), anonymous: d.anonymous,
        station: this.station || undefined };
      return api.giveOpinion(this.code, data).then(() => {
        wx.showToast({ title: '已提交', icon: 'success' });
        this.setData({ text: '' });
        return this.load();
      }, () => {}).then(() => this.setData({ busy: false }));
    },
  },
});
