"""Running the collection: jobs, sensors, schedules, batch runs, the run queue, locks and the deployment checks."""
