"""AWS adapters for the job ports: SQS work queue, DynamoDB job store."""
