"""The local stack: the whole system on moto, no Docker, no AWS account (`make run`)."""
