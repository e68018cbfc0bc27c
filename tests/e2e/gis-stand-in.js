// A stand-in for Google Identity Services' https://accounts.google.com/gsi/client, served by
// tests/e2e/signin.mjs through Playwright routing (nothing reaches Google). It implements the
// token model's surface the app uses, with GIS's shapes (DefinitelyTyped
// types/google.accounts/index.d.ts; BROWSER-FACTS.md §4):
//   google.accounts.oauth2.initTokenClient({client_id, scope, callback, error_callback, login_hint?})
//     -> { requestAccessToken(overrideConfig?) }
//   callback(TokenResponse { access_token, expires_in, scope, token_type, prompt, hd?, error?, error_description?, error_uri? })
//   error_callback({ type: 'popup_failed_to_open' | 'popup_closed' | 'unknown', message })
// What the next requestAccessToken does is set by the test in window.__gisStandIn:
//   { outcome: 'grant' | 'access_denied' | 'popup_failed_to_open' | 'popup_closed' | 'unknown',
//     token: '...', scope?: 'granted scopes' (default: what was asked, `email` spelt as Google
//     spells it back) }
// Every call is recorded in window.__gisCalls for the test to read.
(() => {
  const calls = (window.__gisCalls = window.__gisCalls || []);
  const EMAIL_URL = 'https://www.googleapis.com/auth/userinfo.email';
  // Google answers `email` as `email ... userinfo.email` in the granted scope string.
  const grantedFor = (asked) => {
    const out = [];
    for (const s of String(asked || '').split(/\s+/).filter(Boolean)) {
      out.push(s);
      if (s === 'email') out.push(EMAIL_URL);
    }
    return out.join(' ');
  };

  function initTokenClient(config) {
    if (!config || typeof config.client_id !== 'string' || !config.client_id) {
      throw new Error('Missing required parameter client_id.');
    }
    if (typeof config.callback !== 'function') throw new Error('Missing required parameter callback.');
    calls.push({
      fn: 'initTokenClient',
      client_id: config.client_id,
      scope: config.scope,
      hasErrorCallback: typeof config.error_callback === 'function',
    });
    return {
      requestAccessToken(override) {
        const o = override || {};
        const mode = window.__gisStandIn || { outcome: 'grant' };
        calls.push({
          fn: 'requestAccessToken',
          login_hint: o.login_hint ?? config.login_hint ?? null,
          scope: o.scope ?? config.scope,
          outcome: mode.outcome,
        });
        setTimeout(() => {
          switch (mode.outcome) {
            case 'popup_failed_to_open':
              config.error_callback?.({ type: 'popup_failed_to_open', message: 'Failed to open popup window' });
              break;
            case 'popup_closed':
              config.error_callback?.({ type: 'popup_closed', message: 'Popup window closed' });
              break;
            case 'unknown':
              config.error_callback?.({ type: 'unknown', message: 'unknown' });
              break;
            case 'access_denied':
              config.callback({ error: 'access_denied', error_description: 'The user denied access', error_uri: '' });
              break;
            default:
              config.callback({
                access_token: mode.token,
                token_type: 'Bearer',
                expires_in: 3599,
                scope: mode.scope ?? grantedFor(o.scope ?? config.scope),
                prompt: 'consent',
                hd: '',
              });
          }
        }, 30);
      },
    };
  }

  window.google = window.google || {};
  window.google.accounts = window.google.accounts || {};
  window.google.accounts.oauth2 = {
    initTokenClient,
    hasGrantedAllScopes(response, ...scopes) {
      const granted = String(response?.scope || '').split(/\s+/);
      return scopes.every((s) => granted.includes(s));
    },
    revoke(_token, done) { if (typeof done === 'function') done(); },
  };
})();
