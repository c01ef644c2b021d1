// Mutual's only script. Every page works without it: it adds the NHS.UK
// frontend behaviours (error summary focus, header menu, checkboxes and
// radios with conditional content, and so on).
import { initAll } from './nhsuk-frontend.min.js'

initAll()

// Live topic pages: each new post arrives as a server-sent event from the
// address in data-live, is added at the end of the posts, and a polite
// status message tells screen-reader users. Without JavaScript the page's
// reload link shows new replies. The browser reconnects by itself,
// sending the last post it was given (Last-Event-ID).
const posts = document.getElementById('posts')
if (posts && posts.dataset.live && 'EventSource' in window) {
  const status = document.getElementById('posts-status')
  const source = new EventSource(posts.dataset.live)
  source.addEventListener('post', (e) => {
    if (document.getElementById('post-' + e.lastEventId)) return
    const t = document.createElement('template')
    t.innerHTML = e.data
    posts.append(t.content)
    if (status) status.textContent = 'A new reply was added at the end of the topic.'
  })
  source.addEventListener('end', () => source.close())
}
