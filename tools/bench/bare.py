"""The page-cost reference: a Brython page that imports only ``browser``."""

from browser import window

window.benchStartMs = window.performance.now()
