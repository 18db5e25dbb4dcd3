// The dashboard's entry: signing in, who the caller is, and which view the address shows.
import { get, session, SignInNeeded } from './api.js';
import { el, fill } from './dom.js';
import { showCampaign, showCampaigns } from './campaigns.js';
import { showFleet } from './fleet.js';

const view = document.getElementById('view');
const form = document.getElementById('sign-in');
const who = document.getElementById('who');
const signOut = document.getElementById('sign-out');
let current = null; // the shown view's AbortController: leaving a view stops its stream

async function me() {
  const caller = await get('/v1/me');
  who.textContent = caller.name + ' (' + caller.roles.join(', ') + ')';
  signOut.hidden = false;
  return caller;
}

function askToSignIn(message) {
  session.signOut();
  who.textContent = '';
  signOut.hidden = true;
  fill(view);
  form.hidden = false;
  document.getElementById('sign-in-error').textContent = message || '';
  document.getElementById('token').focus();
}

async function route() {
  if (current) current.abort();
  current = new AbortController();
  const signal = current.signal;
  const hash = location.hash || '#/campaigns';
  for (const link of document.querySelectorAll('header nav a')) {
    link.classList.toggle('current', hash.startsWith(link.getAttribute('href')));
  }
  try {
    const caller = await me();
    form.hidden = true;
    const campaign = hash.match(/^#\/campaigns\/(.+)$/);
    if (campaign) await showCampaign(view, decodeURIComponent(campaign[1]), caller, signal);
    else if (hash.startsWith('#/fleet')) await showFleet(view, signal);
    else await showCampaigns(view, signal);
  } catch (error) {
    if (error instanceof SignInNeeded) askToSignIn(session.token() ? 'The coordinator did not accept that token: ' + error.message : '');
    else if (error.name !== 'AbortError') fill(view, el('p', { class: 'error', id: 'error' }, String(error.message || error)));
  }
}

form.addEventListener('submit', (event) => {
  event.preventDefault();
  session.signIn(document.getElementById('token').value);
  document.getElementById('token').value = '';
  route();
});
signOut.addEventListener('click', () => askToSignIn('Signed out.'));
window.addEventListener('hashchange', route);
route();
