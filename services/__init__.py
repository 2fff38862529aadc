"""The rules of 代表连心: plain functions called by handlers/, wechat/ and jobs/."""
