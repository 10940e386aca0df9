"""The shared Logger and Metrics objects.

There is no Powertools Tracer here on purpose: it imports the X-Ray SDK, which
more than doubles a cold start (see `make bench`). Lambda's active tracing
(Tracing: Active in template.yaml) still records every invocation's segment.
Never log personal data: no emails, phone numbers, names or notes.
"""

from aws_lambda_powertools import Logger, Metrics

logger = Logger()
metrics = Metrics()
