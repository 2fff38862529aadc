const { login } = require('./services/request');

App({
  onLaunch() {
    // Sign in early so the first page's requests find a token; failures show again on first use.
    login().catch(() => {});
  },
});
