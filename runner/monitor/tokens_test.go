package monitor

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

func TestTokenRefreshPeriod(t *testing.T) {
	token := func(exp *int64) corev1.Volume {
		return corev1.Volume{VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
			{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{ExpirationSeconds: exp, Path: "t"}},
		}}}}
	}
	secs := func(s int64) *int64 { return &s }
	tests := []struct {
		name string
		vols []corev1.Volume
		want time.Duration
	}{
		{"no token", []corev1.Volume{{VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{}}}}, 0},
		{"10 minutes: at 80%", []corev1.Volume{token(secs(600))}, 480 * time.Second},
		{"no lifetime: an hour's 80%", []corev1.Volume{token(nil)}, 48 * time.Minute},
		{"the plugin's 3607 s, a year: 24 h", []corev1.Volume{token(secs(3607))}, 24 * time.Hour},
		{"a week: 24 h", []corev1.Volume{token(secs(7 * 24 * 3600))}, 24 * time.Hour},
		{"the shortest wins", []corev1.Volume{token(secs(3607)), token(secs(1000))}, 800 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pod := &corev1.Pod{Spec: corev1.PodSpec{Volumes: tt.vols}}
			if got := tokenRefreshPeriod(pod); got != tt.want {
				t.Errorf("tokenRefreshPeriod = %v, want %v", got, tt.want)
			}
		})
	}
}
