const { render, text, simulate } = require('./helpers/simulate');
const { installWx } = require('./helpers/wx');

beforeEach(() => installWx());

describe('components', () => {
  test('action-bar shows exactly the allowed actions and reports the tapped one', async () => {
    const bar = render('components/action-bar/index', {
      actions: [{ action: 'accept', label: '受理' }, { action: 'decline', label: '不予受理' }],
    });
    const seen = [];
    bar.addEventListener('action', (event) => seen.push(event.detail.action));
    const buttons = bar.querySelectorAll('.bar-btn');
    expect(buttons.map((b) => b.dom.textContent)).toEqual(['受理', '不予受理']);
    buttons[1].dispatchEvent('tap');
    await simulate.sleep(0);
    expect(seen).toEqual(['decline']);
    bar.setData({ actions: [] });
    expect(bar.querySelectorAll('.bar-btn')).toHaveLength(0);
  });

  test('case-timeline shows the newest step first with notes and local times', () => {
    const timeline = render('components/case-timeline/index', {
      items: [
        { at: '2026-05-01T10:00:00+08:00', label: '您提交了反映', note: '' },
        { at: '2026-05-02T09:30:00+08:00', label: '代表回复了您', note: '已联系城管局' },
      ],
    });
    const labels = timeline.querySelectorAll('.t-label').map((n) => n.dom.textContent);
    expect(labels).toEqual(['代表回复了您', '您提交了反映']);
    expect(text(timeline)).toContain('已联系城管局');
    expect(text(timeline)).toContain('2026-05-02 09:30');
  });

  test('case-card opens its case', async () => {
    const card = render('components/case-card/index', {
      item: { number: '2026-000001', title: '路灯坏了', state_label: '已受理', category_label: '城乡建设' },
    });
    const opened = [];
    card.addEventListener('open', (event) => opened.push(event.detail.number));
    expect(text(card)).toContain('路灯坏了');
    card.querySelector('.cc').dispatchEvent('tap');
    await simulate.sleep(0);
    expect(opened).toEqual(['2026-000001']);
  });
});
