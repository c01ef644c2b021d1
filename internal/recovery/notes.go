package recovery

import "github.com/mutualhq/mutual/internal/notify"

func notifyPlanChanged(workerName, baseURL string) notify.PlanChanged {
	return notify.PlanChanged{WorkerFirstName: firstName(workerName), Link: baseURL + "/my/plan"}
}
