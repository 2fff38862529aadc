// What the case pages share: load a case, show it, and carry out the actions the server allows
// (case.allowed_actions → action-bar). Forms ask only for what an action needs.
const api = require('../../services/api');
const { absolute, toast } = require('../../services/request');
const format = require('../../services/format');
const fontSize = require('../../services/fontsize');

const NOTE_LABELS = {
  supplement: '补充内容', opinion: '代表意见（群众看不到）', forward: '转交说明（写明建议）', reply: '回复群众的内容',
  progress: '办理进展',
};
const CONFIRM = { accept: '确认受理这条反映？', withdraw: '确认撤回这条反映？撤回后将不再办理。' };

module.exports = Behavior({
  behaviors: [fontSize],
  data: {
    number: '', item: null, photoUrls: [], submittedAt: '', form: '', formAction: '', noteLabel: '', note: '',
    ratings: [], ratingIndex: -1, reasons: [], reasonIndex: -1, busy: false, error: '',
  },
  methods: {
    onLoad(options) {
      this.setData({ number: options.number || '' });
      api.categories().then((body) => this.setData({ ratings: body.ratings, reasons: body.decline_reasons }),
        () => {});
      return this.reload();
    },
    reload() {
      return api.getCase(this.data.number).then((body) => this.show(body.case),
        (err) => this.setData({ error: err.message }));
    },
    show(item) {
      this.setData({
        item, form: '', note: '', busy: false, submittedAt: format.time(item.submitted_at),
        photoUrls: item.photos.map((p) => absolute(p.url)),
      });
    },
    onPreview(event) {
      wx.previewImage({ urls: this.data.photoUrls, current: event.currentTarget.dataset.url });
    },
    onAction(event) {
      const { action } = event.detail;
      if (action === 'rate') { this.setData({ form: 'rate', formAction: action }); return; }
      if (action === 'decline') { this.setData({ form: 'decline', formAction: action }); return; }
      if (NOTE_LABELS[action]) {
        this.setData({ form: 'note', formAction: action, noteLabel: NOTE_LABELS[action], note: '' });
        return;
      }
      wx.showModal({
        title: '请确认',
        content: CONFIRM[action] || '确认执行此操作？',
        success: ({ confirm }) => { if (confirm) this.perform(action, {}); },
      });
    },
    onNote(event) { this.setData({ note: event.detail.value }); },
    onRating(event) { this.setData({ ratingIndex: Number(event.currentTarget.dataset.index) }); },
    onReason(event) { this.setData({ reasonIndex: Number(event.detail.value) }); },
    onCancelForm() { this.setData({ form: '' }); },
    onSubmitForm() {
      const d = this.data;
      const note = d.note.trim();
      if (d.form === 'rate') {
        if (d.ratingIndex < 0) { toast('请选择评价'); return Promise.resolve(); }
        return this.perform('rate', { value: d.ratings[d.ratingIndex].code, comment: note });
      }
      if (d.form === 'decline') {
        if (d.reasonIndex < 0) { toast('请选择不予受理的原因'); return Promise.resolve(); }
        return this.perform('decline', { reason: d.reasons[d.reasonIndex].code, note });
      }
      if (!note) { toast(`请填写${d.noteLabel}`); return Promise.resolve(); }
      return this.perform(d.formAction, { note });
    },
    perform(action, data) {
      if (this.data.busy) return Promise.resolve();
      this.setData({ busy: true });
      const number = this.data.number;
      const call = action === 'rate' ? api.rate(number, data)
        : action === 'supplement' ? api.supplement(number, data) : api.act(number, action, data);
      return call.then((body) => {
        this.show(body.case);
        wx.showToast({ title: '已完成', icon: 'success' });
      }, () => this.setData({ busy: false }));
    },
  },
});
