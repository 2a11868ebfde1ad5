"""What every app's pages and API share, below all the apps: the API's error shapes, the page helper that turns a
refusal into a message, and the SVG charts. It knows no app (it imports only Django, ninja and the engines)."""
