// Types of the Swiper HTTP API v1 (see shared API.md). Only what the web client uses.

export type Gender = 'male' | 'female'
export type DatingGender = Gender | 'any'
export type SwipeAction = 'like' | 'superlike' | 'dislike'

export interface Photo {
  id: number
  url: string
  position: number
}

export interface VipQuotas {
  likes_left_today: number | null
  rewinds_left_today: number
}

export interface VipStatus {
  level: number
  name: string
  expires_at: string | null
  permissions: string[]
  quotas: VipQuotas
}

export interface Me {
  id: number
  phone: string
  nickname: string
  gender: Gender
  birthday: string
  age: number
  city: string
  has_location: boolean
  avatar: string
  photos: Photo[]
  vip: VipStatus
  created_at: string
}

export interface Card {
  id: number
  nickname: string
  gender: Gender
  age: number
  city: string
  avatar: string
  distance_km?: number
  superliked_me: boolean
  photos: Photo[]
}

export interface Profile {
  dating_gender: DatingGender
  dating_city: string
  min_distance: number
  max_distance: number
  min_dating_age: number
  max_dating_age: number
  vibration: boolean
  only_matched: boolean
  auto_play: boolean
}

export interface Match {
  user: Card
  matched_at: string
}

export interface SwipeResult {
  matched: boolean
  match: Match | null
}

export interface RewindResult {
  user: Card
  action: SwipeAction
}

export interface Plan {
  level: number
  name: string
  permissions: string[]
}

export interface RankEntry {
  rank: number
  score: number
  user: Card
}

export interface CodeSent {
  expires_in: number
  resend_after: number
}

export interface SessionCreated {
  token: string
  expires_at: string
  created: boolean
  user: Me
}

export interface MePatch {
  nickname?: string
  gender?: Gender
  birthday?: string
  city?: string
  lat?: number | null
  lng?: number | null
}

export interface Message {
  id: number
  from: number
  text: string
  client_id: string
  sent_at: string
  read: boolean
}

export interface Conversation {
  user: Card
  matched_at: string
  last_message: Message | null
  unread: number
}

export interface MessagePage {
  messages: Message[]
  has_more: boolean
}

export interface BlockedUser {
  id: number
  nickname: string
  avatar: string
  blocked_at: string
}

export const REPORT_REASONS = ['fake_profile', 'inappropriate_content', 'harassment', 'scam', 'underage', 'other'] as const
export type ReportReason = (typeof REPORT_REASONS)[number]

/** A frame of the events WebSocket (API.md §3 Conversations). */
export type ServerEvent =
  | { seq: number; type: 'message'; data: { user_id: number; message: Message } }
  | { seq: number; type: 'read'; data: { user_id: number; up_to: number } }
  | { seq: number; type: 'match'; data: Match }
  | { seq: number; type: 'unmatch'; data: { user_id: number } }
  | { seq?: number; type: 'resync'; data?: unknown }

/** The VIP level that first grants each permission (API.md §VIP). */
export const PERMISSION_LEVEL: Record<string, number> = {
  vipflag: 1,
  superlike: 1,
  rewind: 2,
  who_liked_me: 3,
  unlimited_like: 3,
  any_location: 3,
}
