// 绑定微信: a deputy or staff member binds this mini-program to their account with the office's binding
// code — the link's token (?t=…) or the 8 characters they type. Afterwards this phone works as them.
const api = require('../../services/api');
const { signedInAs } = require('../../services/request');
const fontSize = require('../../services/fontsize');

Component({
  behaviors: [fontSize],
  data: { token: '', code: '', busy: false, done: '', role: '', error: '' },
  methods: {
    onLoad(options = {}) {
      this.setData({ token: String(options.t || '') });
    },
    onCode(event) {
      this.setData({ code: String(event.detail.value || '').toUpperCase(), error: '' });
    },
    onBind() {
      const { token, code } = this.data;
      const clean = code.replace(/[\s-]/g, '');
      if (!token && clean.length !== 8) {
        this.setData({ error: '请输入8位绑定码' });
        return Promise.resolve();
      }
      this.setData({ busy: true, error: '' });
      return api.bind(token ? { token } : { code: clean }).then((body) => {
        signedInAs(body);
        this.setData({ busy: false, done: body.message, role: body.account.role });
      }, (err) => this.setData({ busy: false, error: err.message }));
    },
    onWorkbench() {
      wx.redirectTo({ url: '/pages/workbench/index' });
    },
  },
});
