// One suggestion for a deputy: 修改草稿 (opens pages/suggestion/edit), confirm or decline co-signing, submit or withdraw a draft, and 测评 the answer
// (联系沟通 / 办理态度 / 办理结果, each 满意 / 基本满意 / 不满意). The buttons follow `allowed_actions`.
const api = require('../../services/api');
const fontSize = require('../../services/fontsize');

const RATINGS = [{ code: 'satisfied', label: '满意' }, { code: 'basic', label: '基本满意' },
  { code: 'unsatisfied', label: '不满意' }];
const PARTS = [{ key: 'contact', label: '联系沟通' }, { key: 'attitude', label: '办理态度' },
  { key: 'result', label: '办理结果' }];
const CONFIRM = { submit: '提交后进入登记，未确认的附议代表不计入。确认提交？', withdraw: '确认撤回这条建议？',
  decline_cosign: '确认不附议这条建议？' };
const EVALUATE = ['evaluate', 'co_evaluate'];

Component({
  behaviors: [fontSize],
  data: {
    item: null, actions: [], cosigners: [], form: '', marks: {}, comment: '', error: '', ratings: RATINGS, items: PARTS,
    labels: { satisfied: '满意', basic: '基本满意', unsatisfied: '不满意' },
  },
  methods: {
    onLoad(options) {
      this.number = options.number;
      return api.getSuggestion(this.number).then((body) => this.show(body.suggestion),
        (err) => this.setData({ error: err.message }));
    },
    show(item) {
      this.setData({ item, actions: item.allowed_actions, form: '', marks: {}, comment: '',
        cosigners: item.signers.filter((s) => s.role === 'co') });
    },
    onAction(event) {
      const { action } = event.currentTarget.dataset;
      if (EVALUATE.includes(action)) { this.setData({ form: action }); return Promise.resolve(); }
      if (action === 'edit_draft') {
        wx.navigateTo({ url: `/pages/suggestion/edit?number=${this.number}` });
        return Promise.resolve();
      }
      const run = () => api.suggestionAct(this.number, action).then((body) => {
        this.show(body.suggestion);
        wx.showToast({ title: '已完成', icon: 'success' });
      }, (err) => wx.showToast({ title: err.message, icon: 'none' }));
      if (!CONFIRM[action]) return run();
      return new Promise((resolve) => wx.showModal({
        content: CONFIRM[action], success: (res) => resolve(res.confirm ? run() : null),
      }));
    },
    onMark(event) {
      const { key } = event.currentTarget.dataset;
      this.setData({ marks: { ...this.data.marks, [key]: RATINGS[Number(event.detail.value)].code } });
    },
    onComment(event) { this.setData({ comment: event.detail.value }); },
    onSubmitEvaluation() {
      const missing = PARTS.find((p) => !this.data.marks[p.key]);
      if (missing) { wx.showToast({ title: `请选择${missing.label}`, icon: 'none' }); return Promise.resolve(); }
      return api.suggestionAct(this.number, this.data.form, { ...this.data.marks, comment: this.data.comment })
        .then((body) => {
          this.show(body.suggestion);
          wx.showToast({ title: '测评已提交', icon: 'success' });
        }, (err) => wx.showToast({ title: err.message, icon: 'none' }));
    },
  },
});
