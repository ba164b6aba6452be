// Debian's headless Chromium, started the one way every browser test starts it (playwright-core,
// nothing downloaded, no background traffic to other hosts).
import { chromium } from 'playwright-core';

// autoplay: let media play without a user gesture (a viewer who pressed play).
export function launchBrowser({ autoplay = false } = {}) {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run',
      ...(autoplay ? ['--autoplay-policy=no-user-gesture-required'] : [])],
  });
}
