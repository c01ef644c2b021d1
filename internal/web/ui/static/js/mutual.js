// Mutual's only script. Every page works without it: it adds the NHS.UK
// frontend behaviours (error summary focus, header menu, checkboxes and
// radios with conditional content, and so on).
import { initAll } from './nhsuk-frontend.min.js'

initAll()
