"""Entry point of the job consumer process.

    huey_consumer backoffice.background.consumer.huey -w 2 -k thread

Importing this module builds the app once, before the consumer starts any worker thread,
and binds it to the job runner; create_app also registers every job handler.
"""
from backoffice import create_app
from backoffice.background import jobs

app = create_app()
jobs.bind_app(app)
huey = jobs.huey
