"""Entry point of the job consumer process.

    python -m backoffice.background.consumer -w 2 -k thread -d 0.1 -m 0.5
    (or: huey_consumer backoffice.background.consumer.huey -w 2 -k thread -d 0.1 -m 0.5)

Importing this module builds the app once, before the consumer starts any worker thread,
and binds it to the job runner; create_app also registers every job handler. With SQLite
storage the consumer polls: `-m 0.5` caps the idle sleep so a new job starts within a second
(with REDIS_URL the queue is read with a blocking pop). The consumer's scheduler runs the
periodic tasks (`jobs.reap_jobs` every minute, and the other packages' periodic tasks).
Run as `python -m`, huey's own log lines are JSON like every other line of the app.
"""
import logging

from backoffice import create_app, logs
from backoffice.background import jobs

app = create_app()
jobs.bind_app(app)
huey = jobs.huey

# the options python3 run.py and docs/DEPLOYMENT.md use
DEFAULT_ARGS = ['-w', '2', '-k', 'thread', '-d', '0.1', '-m', '0.5', '-b', '1.15']


def main(argv=None):
    from huey.consumer_options import ConsumerConfig, OptionParserHandler
    options, _args = OptionParserHandler().get_option_parser().parse_args(argv)
    config = ConsumerConfig(**{k: v for k, v in vars(options).items() if v is not None})
    config.validate()
    logs.configure()
    logging.getLogger('huey').setLevel(config.loglevel)
    huey.create_consumer(**config.values).run()


if __name__ == '__main__':
    main()
