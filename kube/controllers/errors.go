package controllers

import "errors"

// Errors of kubectl's rollout undo and restart, matched with errors.Is.
var (
	ErrNoRolloutHistory = errors.New("no rollout history found")
	ErrRevisionNotFound = errors.New("unable to find the specified revision in history")
	ErrRollbackSkipped  = errors.New("skipped rollback: the current template already matches the revision")
	ErrPaused           = errors.New("the deployment is paused; resume it first")
)

// Errors of a CronJob's schedule.
var (
	ErrSchedule = errors.New("unparseable schedule")
	ErrTimeZone = errors.New("unknown time zone")
)
